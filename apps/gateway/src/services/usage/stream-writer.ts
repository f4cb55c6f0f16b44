import { hostname } from "node:os";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { decodeUsage, encodeUsage, type QueuedUsage } from "./persist.js";
import { persistIsolatingPoison } from "./poison.js";
import { USAGE_GROUP, USAGE_STREAM } from "./stream-sink.js";

export interface StreamWriterOptions {
  /** A connection of its own: XREADGROUP BLOCK holds it. The writer quits it on close. */
  redis: Redis;
  logger: Logger;
  /** Commit one batch to Postgres (idempotent; see persistUsageBatch). */
  persist: (items: QueuedUsage[]) => Promise<unknown>;
  stream?: string;
  group?: string;
  consumer?: string;
  batchSize?: number;
  blockMs?: number;
  /** Entries pending this long with a consumer are presumed abandoned and reclaimed. */
  claimIdleMs?: number;
  /** How often to look for abandoned entries. */
  claimEveryMs?: number;
  /**
   * After a batch smaller than `batchSize`, wait this long before reading again (default 100 ms),
   * so the next batch is fuller: a transaction per 500 rows costs far less than one per 20.
   * Entries are durable in the stream meanwhile; only their arrival in Postgres waits.
   */
  lingerMs?: number;
  /**
   * Under a backlog (full batches), this many batches commit at once, each in its own
   * transaction (default 2): Postgres works on one while the next is read and inserted.
   * Short batches are written one at a time, after those.
   */
  commitConcurrency?: number;
}

type Entry = [id: string, fields: string[]];

/**
 * Consumer-group writer: read a batch, commit it to Postgres, then XACK + XDEL. A crash before
 * the acknowledgement leaves the entries pending; any writer reclaims them with XAUTOCLAIM after
 * `claimIdleMs`, and the idempotent insert makes the replay harmless. Under a backlog, up to
 * `commitConcurrency` full batches commit at once (in any order: each acknowledges its own ids).
 */
export class StreamUsageWriter {
  private running = false;
  private loop: Promise<void> | null = null;
  private lastClaim = 0;
  /** Wakes a linger early when the writer is closed. */
  private wake: (() => void) | null = null;
  readonly consumer: string;
  private readonly stream: string;
  private readonly group: string;
  /** Where entries that can never be written go (same hash slot as the stream). */
  readonly deadLetter: string;

  constructor(private readonly opts: StreamWriterOptions) {
    this.stream = opts.stream ?? USAGE_STREAM;
    this.deadLetter = `${this.stream}:dead`;
    this.group = opts.group ?? USAGE_GROUP;
    this.consumer =
      opts.consumer ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  }

  /** Create the group if needed (from the stream's start: nothing appended earlier is skipped). */
  async start(): Promise<void> {
    await this.createGroup();
    this.running = true;
    this.loop = this.run();
  }

  private async createGroup(): Promise<void> {
    try {
      await this.opts.redis.xgroup("CREATE", this.stream, this.group, "0", "MKSTREAM");
    } catch (err) {
      if (!String((err as Error).message).includes("BUSYGROUP")) throw err;
    }
  }

  /** Stop after the batch in hand is committed and acknowledged. */
  async close(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.opts.redis.disconnect();
  }

  /** Simulate a crash: drop the connection now, acknowledging nothing further. */
  kill(): void {
    this.running = false;
    this.wake?.();
    this.opts.redis.disconnect();
  }

  private async run(): Promise<void> {
    const claimEvery = this.opts.claimEveryMs ?? 5_000;
    const batchSize = this.opts.batchSize ?? 500;
    const lingerMs = this.opts.lingerMs ?? 100;
    const parallel = Math.max(1, this.opts.commitConcurrency ?? 2);
    /** Full batches still committing (a backlog is written by several transactions at once). */
    const committing = new Set<Promise<void>>();
    const settleAll = async () => {
      const all = [...committing];
      committing.clear();
      const failed = (await Promise.allSettled(all)).find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
    };
    while (this.running) {
      try {
        if (Date.now() - this.lastClaim >= claimEvery) {
          await settleAll();
          this.lastClaim = Date.now();
          await this.reclaim();
        }
        // While batches commit the read never blocks: their XACKs share this connection.
        const block = committing.size > 0 ? null : (this.opts.blockMs ?? 1_000);
        const entries = await this.read(batchSize, block);
        if (entries.length === batchSize) {
          // A backlog: commit this batch while the next one is read, up to `parallel` at once.
          const p: Promise<void> = this.process(entries).finally(() => committing.delete(p));
          // Observed by the race below or by settleAll, never an unhandled rejection meanwhile.
          p.catch(() => {});
          committing.add(p);
          if (committing.size >= parallel) await Promise.race(committing);
          continue;
        }
        await settleAll();
        if (entries.length === 0) continue;
        await this.process(entries);
        if (lingerMs > 0) await this.linger(lingerMs);
      } catch (err) {
        await settleAll().catch(() => {});
        if (!this.running) return;
        // A Redis that restarted without persistence lost the group: create it again.
        if (String((err as Error).message).startsWith("NOGROUP")) {
          await this.createGroup().catch(() => {});
        }
        this.opts.logger.warn({ err, consumer: this.consumer }, "usage writer error; retrying");
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    await settleAll().catch((err) => {
      this.opts.logger.warn({ err, consumer: this.consumer }, "usage writer error at close");
    });
  }

  /** New entries for this consumer; `blockMs` null returns at once when there are none. */
  private async read(count: number, blockMs: number | null): Promise<Entry[]> {
    const block = blockMs === null ? [] : ["BLOCK", blockMs];
    const res = (await this.opts.redis.xreadgroup(
      "GROUP",
      this.group,
      this.consumer,
      "COUNT",
      count,
      ...(block as ["BLOCK", number]),
      "STREAMS",
      this.stream,
      ">",
    )) as Array<[string, Entry[]]> | null;
    return res?.[0]?.[1] ?? [];
  }

  private linger(ms: number): Promise<void> {
    // close() may have come while the batch was committing, before there was a linger to wake.
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** Take over entries other (crashed) writers left pending too long, and write them. */
  private async reclaim(): Promise<void> {
    let cursor = "0-0";
    for (let round = 0; round < 20; round++) {
      const [next, entries] = (await this.opts.redis.xautoclaim(
        this.stream,
        this.group,
        this.consumer,
        this.opts.claimIdleMs ?? 30_000,
        cursor,
        "COUNT",
        this.opts.batchSize ?? 500,
      )) as [string, Entry[], string[]];
      const live = entries.filter((e) => e && Array.isArray(e[1]));
      if (live.length > 0) {
        this.opts.logger.info(
          { consumer: this.consumer, entries: live.length },
          "reclaimed abandoned usage entries",
        );
        await this.process(live);
      }
      if (next === "0-0") return;
      cursor = next;
    }
  }

  private async process(entries: Entry[]): Promise<void> {
    const items: QueuedUsage[] = [];
    const ids: string[] = [];
    for (const [id, fields] of entries) {
      ids.push(id);
      const i = fields.indexOf("e");
      try {
        items.push(decodeUsage(fields[i + 1] ?? ""));
      } catch (err) {
        // A malformed entry can never be written; keep it in the log rather than retry forever.
        this.opts.logger.error({ err, id }, "dropping malformed usage entry");
      }
    }
    await persistIsolatingPoison(this.opts.persist, items, async (item, err) => {
      // Kept for an operator to inspect and replay; never silently lost.
      this.opts.logger.error(
        { err, requestId: item.event.requestId, deadLetter: this.deadLetter },
        "usage entry cannot be written; moved to the dead-letter stream",
      );
      await this.opts.redis.xadd(
        this.deadLetter,
        "*",
        "e",
        encodeUsage(item),
        "error",
        err instanceof Error ? err.message : String(err),
      );
    });
    // Acknowledge only after the commit; delete so XLEN is the queue depth.
    await this.opts.redis
      .multi()
      .xack(this.stream, this.group, ...ids)
      .xdel(this.stream, ...ids)
      .exec();
  }
}
