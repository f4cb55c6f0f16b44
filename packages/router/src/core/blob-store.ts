import { readFile, unlink, writeFile } from "node:fs";
import { mkdir, readdir as readdirP, stat } from "node:fs/promises";
import { join } from "node:path";
import { sha256Hex } from "./tokens.js";

/** Where v2/v3 prompts live; miners receive the URN, not the text. */
export interface BlobStore {
  /** Store content; returns its URN (`urn:blob:v2:…` or `urn:blob:v3:…`). */
  put(version: 2 | 3, content: string): Promise<string>;
  /** Content behind a URN this store issued; throws BlobNotFoundError otherwise. */
  get(urn: string): Promise<string>;
  /** Remove the content behind a URN (no error when it is already gone). */
  delete(urn: string): Promise<void>;
  /**
   * Remove blobs older than `maxAgeMs` whose key `isLive` does not claim (orphans of an earlier
   * run, or of tasks dropped without eviction); returns how many were removed.
   */
  sweep(maxAgeMs: number, isLive: (key: string) => boolean): Promise<number>;
  /** Wait for writes still in progress (stores that write behind `put`). */
  flush?(): Promise<void>;
}

/** Identity of the stored content behind a URN (`bucket:file`): v2 and v3 URNs of one text share it. */
export function blobKey(urn: string): string {
  const parts = urn.split(":");
  return parts.slice(-2).join(":");
}

/** The URN names no stored blob. */
export class BlobNotFoundError extends Error {
  override name = "BlobNotFoundError";
}

const BUCKET = "prompts";
// urn:blob:v2:{backend}:{bucket}:{file} · urn:blob:v3:{backend}:{backend_index}:{bucket}:{file}
// A bucket is what a store writes: the fs folder "prompts" or an S3 bucket name (3–63 of
// [a-z0-9.-], a letter or digit at each end). So never "." or "..": the fs store joins the
// bucket into a path, and `..:{hash}.txt` read files one level above its root.
const URN_RE =
  /^urn:blob:v(2|3):([a-z0-9]+):(?:(\d+):)?([a-z0-9][a-z0-9.-]{1,61}[a-z0-9]):([0-9a-f]{64}\.txt)$/;

/** The URN of a stored file (`bucket` is the fs folder or the S3 bucket). */
export function makeUrn(
  version: 2 | 3,
  backend: string,
  file: string,
  bucket = BUCKET,
  backendIndex = 0,
): string {
  return version === 3
    ? `urn:blob:v3:${backend}:${backendIndex}:${bucket}:${file}`
    : `urn:blob:v2:${backend}:${bucket}:${file}`;
}

/** Bucket and file of a URN of `backend`; a BlobNotFoundError for anything else. */
export function parseUrn(urn: string, backend: string): { bucket: string; file: string } {
  const m = URN_RE.exec(urn);
  if (m === null || m[2] !== backend || m[4] === undefined || m[5] === undefined) {
    throw new BlobNotFoundError(`not a ${backend} blob urn: ${urn.slice(0, 200)}`);
  }
  return { bucket: m[4], file: m[5] };
}

/** Most recently stored or read blobs, bounded by total characters (oldest dropped first). */
export class RecentBlobs {
  private readonly entries = new Map<string, string>();
  private chars = 0;

  constructor(private readonly maxChars: number) {}

  get(file: string): string | undefined {
    return this.entries.get(file);
  }

  set(file: string, content: string): void {
    if (content.length > this.maxChars) return;
    this.delete(file);
    this.entries.set(file, content);
    this.chars += content.length;
    for (const [oldest, text] of this.entries) {
      if (this.chars <= this.maxChars) break;
      this.entries.delete(oldest);
      this.chars -= text.length;
    }
  }

  delete(file: string): void {
    const text = this.entries.get(file);
    if (text === undefined) return;
    this.entries.delete(file);
    this.chars -= text.length;
  }
}

// Callback fs: about half the main-thread CPU of fs/promises per small file (no FileHandle), and
// blobs are written and read on every v2/v3 task.
const writeFileCb = (path: string, content: string): Promise<void> =>
  new Promise((resolve, reject) =>
    writeFile(path, content, "utf8", (err) => (err === null ? resolve() : reject(err))),
  );
const readFileCb = (path: string): Promise<string> =>
  new Promise((resolve, reject) =>
    readFile(path, "utf8", (err, data) => (err === null ? resolve(data) : reject(err))),
  );
const unlinkCb = (path: string): Promise<void> =>
  new Promise((resolve, reject) =>
    unlink(path, (err) => (err === null || err.code === "ENOENT" ? resolve() : reject(err))),
  );

/**
 * Content-addressed blobs on the local filesystem under `root/{bucket}/{sha256}.txt`.
 *
 * Writes are behind the hot path: `put` returns the URN at once and the file is written in the
 * background, while `get` serves the content from memory until the write is done (and from a
 * bounded cache of recent blobs after), so the miner's fetch right after a put never waits for or
 * reads the disk. The router keeps tasks in memory, so a crash loses the task with or without the
 * file; a failed write is reported through `onWriteError` and a later `get` of that blob answers
 * BlobNotFoundError once it has left memory. `flush()` waits for pending writes.
 */
export class FsBlobStore implements BlobStore {
  private readonly recent: RecentBlobs;
  private readonly pending = new Map<string, { content: string; done: Promise<void> }>();
  private readonly onWriteError: (err: Error, file: string) => void;
  private dirReady: Promise<void> | undefined;

  constructor(
    private readonly root: string,
    opts: { cacheChars?: number; onWriteError?: (err: Error, file: string) => void } = {},
  ) {
    this.recent = new RecentBlobs(opts.cacheChars ?? 32 * 1024 * 1024);
    this.onWriteError = opts.onWriteError ?? (() => {});
  }

  async put(version: 2 | 3, content: string): Promise<string> {
    const file = `${sha256Hex(content)}.txt`;
    const urn = makeUrn(version, "fs", file);
    // Same content already written (or being written) and not deleted since: nothing to do.
    if (this.pending.has(file) || this.recent.get(file) === content) return urn;
    const entry = { content, done: this.write(file, content) };
    this.pending.set(file, entry);
    void entry.done.then(
      () => {
        if (this.pending.get(file) !== entry) return; // deleted meanwhile
        this.pending.delete(file);
        this.recent.set(file, content);
      },
      (err: Error) => {
        if (this.pending.get(file) === entry) this.pending.delete(file);
        this.onWriteError(err, file);
      },
    );
    return urn;
  }

  /** Wait until every blob stored so far is on disk (write failures were already reported). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.pending.values()].map((p) => p.done));
  }

  private async write(file: string, content: string): Promise<void> {
    const dir = join(this.root, BUCKET);
    this.dirReady ??= mkdir(dir, { recursive: true }).then(() => undefined);
    try {
      await this.dirReady;
    } catch (err) {
      this.dirReady = undefined; // retry creating it next time
      throw err;
    }
    await writeFileCb(join(dir, file), content);
  }

  async get(urn: string): Promise<string> {
    const file = this.fileOf(urn);
    const inMemory = this.pending.get(file)?.content ?? this.recent.get(file);
    if (inMemory !== undefined) return inMemory;
    try {
      return await readFileCb(join(this.root, BUCKET, file));
    } catch {
      throw new BlobNotFoundError(`blob not found: ${urn}`);
    }
  }

  async delete(urn: string): Promise<void> {
    const file = this.fileOf(urn);
    this.recent.delete(file);
    const writing = this.pending.get(file);
    if (writing !== undefined) {
      this.pending.delete(file);
      await writing.done.catch(() => {});
    }
    await unlinkCb(join(this.root, BUCKET, file));
  }

  /** The file of one of this store's URNs: it only ever writes to its one folder. */
  private fileOf(urn: string): string {
    const { bucket, file } = parseUrn(urn, "fs");
    if (bucket !== BUCKET) throw new BlobNotFoundError(`not a blob of this store: ${urn}`);
    return file;
  }

  async sweep(maxAgeMs: number, isLive: (key: string) => boolean): Promise<number> {
    const dir = join(this.root, BUCKET);
    const files = await readdirP(dir).catch(() => [] as string[]);
    const cutoff = Date.now() - maxAgeMs;
    let removed = 0;
    for (const file of files) {
      if (!/^[0-9a-f]{64}\.txt$/.test(file) || isLive(`${BUCKET}:${file}`)) continue;
      if (this.pending.has(file)) continue;
      const path = join(dir, file);
      const info = await stat(path).catch(() => undefined);
      if (info === undefined || info.mtimeMs > cutoff) continue;
      this.recent.delete(file);
      await unlinkCb(path).catch(() => {});
      removed += 1;
    }
    return removed;
  }
}

/** In-memory blobs, bounded (oldest dropped first); for tests and diskless embedding. */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, string>();
  private readonly storedAt = new Map<string, number>();

  constructor(private readonly maxEntries = 10_000) {}

  async put(version: 2 | 3, content: string): Promise<string> {
    const file = `${sha256Hex(content)}.txt`;
    this.blobs.delete(file);
    this.blobs.set(file, content);
    this.storedAt.set(file, Date.now());
    if (this.blobs.size > this.maxEntries) {
      const oldest = this.blobs.keys().next();
      if (oldest.done !== true) {
        this.blobs.delete(oldest.value);
        this.storedAt.delete(oldest.value);
      }
    }
    return makeUrn(version, "mem", file);
  }

  async get(urn: string): Promise<string> {
    const { file } = parseUrn(urn, "mem");
    const content = this.blobs.get(file);
    if (content === undefined) throw new BlobNotFoundError(`blob not found: ${urn}`);
    return content;
  }

  async delete(urn: string): Promise<void> {
    const { file } = parseUrn(urn, "mem");
    this.blobs.delete(file);
    this.storedAt.delete(file);
  }

  async sweep(maxAgeMs: number, isLive: (key: string) => boolean): Promise<number> {
    const cutoff = Date.now() - maxAgeMs;
    let removed = 0;
    for (const [file, at] of [...this.storedAt]) {
      if (at > cutoff || isLive(`${BUCKET}:${file}`)) continue;
      this.blobs.delete(file);
      this.storedAt.delete(file);
      removed += 1;
    }
    return removed;
  }

  /** Number of stored blobs (tests, status). */
  get size(): number {
    return this.blobs.size;
  }
}
