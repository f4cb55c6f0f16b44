import { EventEmitter } from "node:events";
import type { ClientGoneSignal } from "../../lib/client-gone.js";

/**
 * The abort signal of one non-streamed router call: it fires when the client goes away or when
 * the call's whole deadline passes, whichever is first. undici's own `headersTimeout` and
 * `bodyTimeout` are idle timers, so a router that sends its headers late and then a byte every
 * few seconds would otherwise hold the request (and its concurrency slot and balance hold, which
 * expire a few seconds after the deadline) for as long as it likes.
 *
 * An EventEmitter with `aborted` and an `abort` event, as undici accepts: one timer and one
 * listener per call, where a web AbortSignal.timeout + AbortSignal.any cost far more on the hot
 * path (see ClientGoneSignal).
 */
export class CallDeadline extends EventEmitter {
  aborted = false;
  /** Why it fired: the deadline passed, or the client left. */
  reason: "deadline" | "client" | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly onClient = () => this.fire("client");

  constructor(
    timeoutMs: number,
    private readonly client?: ClientGoneSignal,
  ) {
    super();
    this.timer = setTimeout(() => this.fire("deadline"), timeoutMs);
    if (client?.aborted) this.fire("client");
    else client?.once("abort", this.onClient);
  }

  /** The call is over: stop the timer and stop listening to the client. */
  dispose(): void {
    clearTimeout(this.timer);
    this.client?.off("abort", this.onClient);
  }

  private fire(reason: "deadline" | "client"): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    clearTimeout(this.timer);
    this.emit("abort");
  }
}
