import type { Server } from "node:http";

export interface DrainOptions {
  /** Keep accepting this long first, so load balancers polling /readyz see the 503 (ms). */
  delayMs: number;
  /** How often sockets that went idle after their last response are closed (ms, default 250). */
  sweepIntervalMs?: number;
}

/** The part of a node HTTP(S)/HTTP2 server the drain needs. */
interface DrainableServer {
  close(callback?: (err?: Error) => void): unknown;
  /** HTTP/1 servers only; HTTP/2 sessions end on close. */
  closeIdleConnections?: Server["closeIdleConnections"];
}

/**
 * Stop accepting connections and resolve once every in-flight request and stream has finished.
 * `server.close()` closes idle keep-alive sockets only once, when called; a socket that finishes
 * its response afterwards would linger until its keep-alive timeout and hold the close open, so
 * idle sockets are swept until the server is closed. Bounding the wait is the caller's job.
 */
export async function drainHttpServer(server: DrainableServer, opts: DrainOptions): Promise<void> {
  if (opts.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, opts.delayMs));
  const closed = new Promise<void>((resolve) => {
    // An error here only means the server was not listening, which is as closed as it gets.
    server.close(() => resolve());
  });
  const sweep = setInterval(() => server.closeIdleConnections?.(), opts.sweepIntervalMs ?? 250);
  try {
    await closed;
  } finally {
    clearInterval(sweep);
  }
}
