import { Worker } from "node:worker_threads";
import type { Logger } from "pino";

/** What the writer thread is started with. */
export interface WriterThreadData {
  redisUrl: string;
  databaseUrl: string;
  stream: string | undefined;
  claimIdleMs: number | undefined;
  logLevel: string;
}

export type WriterThreadMessage =
  | { type: "started" }
  | { type: "failed"; message: string }
  | { type: "close" }
  | { type: "closed" };

/** The usage writer as enforcement sees it, in this thread or another. */
export interface UsageWriterHandle {
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Start the worker script: beside the bundle in production (dist/usage-writer.mjs); from the
 * TypeScript source under tsx and in the tests (loaded through tsx's `tsImport`, since a worker
 * does not inherit the parent's module hooks).
 */
function spawnThread(data: WriterThreadData): Worker {
  if (!import.meta.url.endsWith(".ts")) {
    return new Worker(new URL("./usage-writer.mjs", import.meta.url), { workerData: data });
  }
  const source = JSON.stringify(new URL("./writer-thread.ts", import.meta.url).href);
  const code = `import("tsx/esm/api").then(({ tsImport }) => tsImport(${source}, ${source}))`;
  return new Worker(code, { eval: true, workerData: data });
}

/**
 * The Redis usage writer in a worker thread of its own (StreamUsageWriter, unchanged): batches
 * are decoded, aggregated and inserted on another core, so neither their CPU time nor their
 * garbage lands on the event loop that serves requests. A thread that dies is started again after
 * a second; what it held unacknowledged is reclaimed from the stream (XAUTOCLAIM) as after any
 * writer crash. Only with a real Postgres (`databaseUrl`): PGlite lives in one thread.
 */
export class ThreadedUsageWriter implements UsageWriterHandle {
  private worker: Worker | null = null;
  private closing = false;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly data: WriterThreadData,
    private readonly logger: Logger,
  ) {}

  /** Resolves once the thread's consumer group is in place (rejects if it cannot start). */
  start(): Promise<void> {
    const worker = spawnThread(this.data);
    this.worker = worker;
    return new Promise((resolve, reject) => {
      worker.on("message", (m: WriterThreadMessage) => {
        if (m.type === "started") resolve();
        if (m.type === "failed") reject(new Error(`usage writer thread: ${m.message}`));
      });
      worker.on("error", (err) => {
        this.logger.error({ err }, "usage writer thread failed");
        reject(err);
      });
      worker.on("exit", (code) => {
        if (this.worker === worker) this.worker = null;
        if (this.closing) return;
        this.logger.error({ code }, "usage writer thread exited; restarting in 1 s");
        reject(new Error(`usage writer thread exited with ${code}`));
        this.restartTimer = setTimeout(() => {
          this.start().catch((err) =>
            this.logger.error({ err }, "usage writer thread restart failed"),
          );
        }, 1_000);
        this.restartTimer.unref();
      });
    });
  }

  /** Let the thread finish the batch in hand, then stop it (terminated after 10 s). */
  async close(): Promise<void> {
    this.closing = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    const kill = setTimeout(() => void worker.terminate(), 10_000);
    worker.postMessage({ type: "close" } satisfies WriterThreadMessage);
    await exited;
    clearTimeout(kill);
  }

  /** Whether a writer thread is running now (between a crash and its restart it is not). */
  get alive(): boolean {
    return this.worker !== null;
  }

  /** Simulate a crash of the thread (tests): it stops at once, acknowledging nothing further. */
  async crash(): Promise<void> {
    await this.worker?.terminate();
  }
}
