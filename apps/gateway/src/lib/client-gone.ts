import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import type { Context } from "hono";

/**
 * "The client closed its connection before we answered", as the signal undici accepts (an
 * EventEmitter with `aborted` and an `abort` event). Built from the Node response's `close`
 * instead of the request's web AbortSignal: @hono/node-server makes that signal lazily, and an
 * AbortController plus undici's EventTarget listener cost ~25 µs and 2.6 KB per request on the hot
 * path (bench:cost), where this costs one listener on an emitter Node already has.
 */
export class ClientGoneSignal extends EventEmitter {
  aborted = false;

  constructor(res: ServerResponse) {
    super();
    res.once("close", () => {
      // `close` also follows a response that was sent in full: only an early one is the client's.
      if (res.writableFinished) return;
      this.aborted = true;
      this.emit("abort");
    });
  }
}

/** The signal for this request, or undefined when it is not served by node-server (tests). */
export function clientGoneSignal(c: Context): ClientGoneSignal | undefined {
  const res = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  return res === undefined ? undefined : new ClientGoneSignal(res);
}
