import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the fake Stripe API received, exactly as the SDK sent it. */
export interface RecordedRequest {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  authorization: string | undefined;
  /** The form-encoded body, decoded (`payload[value]` → "123"). */
  form: Record<string, string>;
  /** HTTP status we answered. */
  status: number;
}

/**
 * A local HTTP server standing in for api.stripe.com in tests: the real `stripe` SDK is pointed
 * at it (host, port, protocol), it records every request and answers like Stripe, or with the
 * failures a test scripts (`failNext`). Loopback only.
 */
export class StripeRecorder {
  readonly requests: RecordedRequest[] = [];
  private readonly failures = new Map<string, Array<{ status: number; code?: string }>>();
  private server: Server | null = null;
  private n = 0;
  /** Ids unique across runs (tests against a long-lived Postgres keep old customers). */
  private readonly run = randomBytes(4).toString("hex");

  /** Base URL for STRIPE_API_BASE / StripeSdkClient({ apiBase }). */
  url = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(({ status, body }) => {
        res.writeHead(status, {
          "content-type": "application/json",
          "request-id": `req_${this.n}`,
        });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  /** The next `count` requests to `path` fail with `status` (then normal answers resume). */
  failNext(path: string, status: number, count = 1, code?: string): void {
    const list = this.failures.get(path) ?? [];
    for (let i = 0; i < count; i++) list.push({ status, ...(code ? { code } : {}) });
    this.failures.set(path, list);
  }

  to(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
    const path = (req.url ?? "").split("?")[0] ?? "";
    const failure = this.failures.get(path)?.shift();
    const status = failure?.status ?? 200;
    this.requests.push({
      method: req.method ?? "",
      path,
      idempotencyKey: header(req, "idempotency-key"),
      authorization: header(req, "authorization"),
      form,
      status,
    });
    this.n += 1;
    if (failure) {
      return {
        status,
        body: {
          error: {
            type:
              status === 429
                ? "rate_limit_error"
                : status >= 500
                  ? "api_error"
                  : "invalid_request_error",
            code: failure.code,
            message: `scripted ${status}`,
          },
        },
      };
    }
    if (path === "/v1/customers") {
      return {
        status,
        body: { id: `cus_test${this.run}${this.n}`, object: "customer", metadata: {} },
      };
    }
    if (path === "/v1/checkout/sessions") {
      const id = `cs_test${this.run}${this.n}`;
      return {
        status,
        body: { id, object: "checkout.session", url: `https://checkout.stripe.test/${id}` },
      };
    }
    if (path === "/v1/billing/meter_events") {
      return {
        status,
        body: {
          object: "billing.meter_event",
          event_name: form.event_name,
          identifier: form.identifier,
          timestamp: Number(form.timestamp),
          payload: {
            stripe_customer_id: form["payload[stripe_customer_id]"],
            value: form["payload[value]"],
          },
          livemode: false,
          created: Math.floor(Date.now() / 1000),
        },
      };
    }
    return { status: 404, body: { error: { type: "invalid_request_error", message: "no route" } } };
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
