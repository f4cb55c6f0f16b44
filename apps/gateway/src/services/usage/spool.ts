import type { FileHandle } from "node:fs/promises";
import { mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { decodeUsage, encodeUsage, type QueuedUsage } from "./persist.js";
import type { UsageSink } from "./sink.js";

export interface SpoolOptions {
  /** Directory of this instance's spool segments (under the gateway's data dir). */
  dir: string;
  /** Commit a batch to Postgres (idempotent: persistUsageBatch). */
  persist: (items: QueuedUsage[]) => Promise<unknown>;
  logger: Logger;
  /** How often sealed segments are drained into Postgres (default 1 s). */
  drainIntervalMs?: number;
  batchSize?: number;
}

interface Waiter {
  line: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const OPEN_SUFFIX = ".open";
const SEALED_SUFFIX = ".ndjson";

/**
 * Local durable usage spool: the fallback when Redis is unreachable. `append` resolves only after
 * the entry's line is written and fsync'd (group commit: appends arriving together share one
 * write + fdatasync), so an answered request's usage survives a crash of the process. Every
 * `drainIntervalMs` the open segment is sealed and sealed segments are written straight into
 * Postgres with the idempotent batch writer, then deleted; a failed drain (Postgres down) keeps
 * the segment for the next attempt. Segments a crashed predecessor left behind are drained at
 * start. One gateway process per data dir (as with PGlite).
 */
export class SpoolUsageSink implements UsageSink {
  private fh: FileHandle | null = null;
  private activePath: string | null = null;
  private activeCount = 0;
  private sealedCount = 0;
  private queue: Waiter[] = [];
  /** Serializes segment writes and seals. */
  private chain: Promise<void> = Promise.resolve();
  private writeScheduled = false;
  private draining: Promise<void> | null = null;
  private seq = 0;
  private dirReady: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: SpoolOptions) {
    this.timer = setInterval(() => {
      this.drain().catch((err) =>
        opts.logger.warn({ err }, "usage spool drain failed; will retry"),
      );
    }, opts.drainIntervalMs ?? 1_000);
    this.timer.unref();
  }

  append(item: QueuedUsage): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line: `${encodeUsage(item)}\n`, resolve, reject });
      if (!this.writeScheduled) {
        this.writeScheduled = true;
        this.chain = this.chain.then(() => this.writeQueued());
      }
    });
  }

  /** Entries spooled and not yet committed to Postgres. */
  async depth(): Promise<number> {
    return this.activeCount + this.sealedCount + this.queue.length;
  }

  /** Seal the open segment and write every segment into Postgres; throws if Postgres refuses. */
  async flush(): Promise<void> {
    await this.drain(true);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    try {
      await this.drain(true);
    } catch (err) {
      this.opts.logger.error(
        { err, dir: this.opts.dir },
        "usage spool not drained at shutdown; it is replayed at the next start",
      );
    }
    await this.chain;
    await this.fh?.close();
    this.fh = null;
  }

  /**
   * Seal, then drain sealed segments (one drain at a time). The timer skips a tick while a drain
   * runs; `flush` waits for it and then drains again, so it covers everything appended before it.
   */
  async drain(wait = false): Promise<void> {
    if (this.draining && !wait) return;
    while (this.draining) await this.draining.catch(() => {});
    const run = (async () => {
      await this.seal();
      const files = await this.sealedFiles();
      for (const file of files) await this.drainFile(file);
    })();
    this.draining = run.finally(() => {
      this.draining = null;
    });
    await this.draining;
  }

  private ensureDir(): Promise<void> {
    this.dirReady ??= (async () => {
      await mkdir(this.opts.dir, { recursive: true });
      // Segments still "open" belong to a predecessor that died: seal them for draining.
      for (const name of await readdir(this.opts.dir)) {
        if (!name.endsWith(OPEN_SUFFIX)) continue;
        const from = path.join(this.opts.dir, name);
        await rename(from, from.slice(0, -OPEN_SUFFIX.length) + SEALED_SUFFIX);
      }
    })();
    return this.dirReady;
  }

  private async writeQueued(): Promise<void> {
    this.writeScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    try {
      await this.ensureDir();
      if (!this.fh) {
        this.seq += 1;
        this.activePath = path.join(
          this.opts.dir,
          `${Date.now()}-${process.pid}-${this.seq}${OPEN_SUFFIX}`,
        );
        this.fh = await open(this.activePath, "a");
        await syncDir(this.opts.dir);
      }
      await this.fh.write(batch.map((w) => w.line).join(""));
      await this.fh.datasync();
      this.activeCount += batch.length;
      for (const w of batch) w.resolve();
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }

  /** Close the open segment and rename it sealed (behind any write in progress). */
  private seal(): Promise<void> {
    const step = this.chain.then(async () => {
      const fh = this.fh;
      const from = this.activePath;
      if (!fh || !from) return;
      this.fh = null;
      this.activePath = null;
      await fh.close();
      await rename(from, from.slice(0, -OPEN_SUFFIX.length) + SEALED_SUFFIX);
      this.sealedCount += this.activeCount;
      this.activeCount = 0;
    });
    this.chain = step.catch(() => {});
    return step;
  }

  private async sealedFiles(): Promise<string[]> {
    // Nothing was ever spooled here (the usual case): do not create the directory just to look.
    const exists = await readdir(this.opts.dir).then(
      () => true,
      () => false,
    );
    if (!exists) return [];
    await this.ensureDir();
    return (await readdir(this.opts.dir))
      .filter((n) => n.endsWith(SEALED_SUFFIX))
      .sort()
      .map((n) => path.join(this.opts.dir, n));
  }

  private async drainFile(file: string): Promise<void> {
    const text = await readFile(file, "utf8");
    const items: QueuedUsage[] = [];
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        items.push(decodeUsage(line));
      } catch (err) {
        // A torn last line (crash mid-write) was never acknowledged: its request got no answer.
        this.opts.logger.error({ err, file }, "skipping unreadable usage spool line");
      }
    }
    const size = this.opts.batchSize ?? 500;
    for (let i = 0; i < items.length; i += size) {
      await this.opts.persist(items.slice(i, i + size));
    }
    await unlink(file);
    this.sealedCount = Math.max(0, this.sealedCount - items.length);
    if (items.length > 0) {
      this.opts.logger.info({ file, entries: items.length }, "usage spool segment replayed");
    }
  }
}

/** fsync a directory so a new file's entry survives a crash. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the file's own fsync still holds its data.
  } finally {
    await handle.close();
  }
}
