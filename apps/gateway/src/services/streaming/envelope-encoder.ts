import { failedEnvelope, okEnvelope } from "@portal/contracts";
import type { CatalogError } from "../compat/common.js";
import type { StreamEncoder, StreamFinish } from "./encoder.js";

/**
 * The `/v1/completions` stream: every SSE event is a Portal envelope whose `data` is a
 * text-completion chunk; the last one before `data: [DONE]` carries `usage` (with cost) and
 * `timing`; a failure after streaming started is a `failed` envelope event.
 */
export class EnvelopeStreamEncoder implements StreamEncoder {
  private ended = false;

  constructor(
    private readonly opts: {
      requestId: string;
      model: string;
      routerPool: string;
      created: number;
    },
  ) {}

  start(): string {
    return "";
  }

  delta(text: string): string {
    if (this.ended || text === "") return "";
    return this.frame({ ...this.chunk(), choices: [{ index: 0, text, finish_reason: null }] });
  }

  finish(args: StreamFinish): string {
    if (this.ended) return "";
    this.ended = true;
    return `${this.frame({
      ...this.chunk(),
      choices: [{ index: 0, text: "", finish_reason: args.finishReason ?? "stop" }],
      usage: args.usage,
      timing: args.timing,
    })}data: [DONE]\n\n`;
  }

  error(err: CatalogError): string {
    if (this.ended) return "";
    this.ended = true;
    const body = failedEnvelope(
      { requestId: this.opts.requestId, model: this.opts.model, routerPool: this.opts.routerPool },
      { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
    );
    return `data: ${JSON.stringify(body)}\n\ndata: [DONE]\n\n`;
  }

  keepAlive(): string {
    return this.ended ? "" : ": keep-alive\n\n";
  }

  private chunk() {
    return {
      id: `cmpl_${this.opts.requestId.slice(4)}`,
      object: "text_completion" as const,
      created: this.opts.created,
      model: this.opts.model,
    };
  }

  private frame(data: object): string {
    const envelope = okEnvelope(
      { requestId: this.opts.requestId, model: this.opts.model, routerPool: this.opts.routerPool },
      data,
    );
    return `data: ${JSON.stringify(envelope)}\n\n`;
  }
}
