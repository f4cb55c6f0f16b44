import Stripe from "stripe";

/** A Stripe failure reduced to what the outbox and the routes decide on. */
export class PaymentProviderError extends Error {
  constructor(
    message: string,
    /** HTTP status Stripe answered (undefined: no answer — connection error, timeout). */
    readonly statusCode: number | undefined,
    /** Stripe's error code (e.g. `resource_missing`), when it sent one. */
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "PaymentProviderError";
  }

  /** 429, 5xx and no answer at all are worth retrying; other 4xx will fail the same way again. */
  get retryable(): boolean {
    return this.statusCode === undefined || this.statusCode === 429 || this.statusCode >= 500;
  }
}

/** The verified webhook event, as much of it as the ledger needs. */
export interface PaymentEvent {
  id: string;
  type: string;
  /** `data.object` of the event (a Checkout Session, a Charge, …). */
  object: Record<string, unknown>;
}

export interface CheckoutInput {
  orgId: string;
  customerId: string;
  /** Credits to buy, in whole cents (Stripe amounts are integers in the currency's minor unit). */
  amountCents: number;
  successUrl: string;
  cancelUrl: string;
  idempotencyKey: string;
}

export interface MeterEventInput {
  eventName: string;
  customerId: string;
  /** Whole number (Stripe refuses fractions). */
  value: bigint;
  identifier: string;
  /** Unix seconds; Stripe accepts the past 35 days up to 5 minutes ahead. */
  timestamp: number;
}

/**
 * What the gateway needs from the payment provider (CONVENTIONS §8). {@link StripeSdkClient} is
 * the implementation, over the official SDK; tests point that same SDK at a local HTTP server.
 */
export interface PaymentsClient {
  createCustomer(input: { orgId: string; name: string; idempotencyKey: string }): Promise<string>;
  createCheckoutSession(input: CheckoutInput): Promise<{ id: string; url: string }>;
  sendMeterEvent(input: MeterEventInput, idempotencyKey: string): Promise<void>;
  /** Verify the `Stripe-Signature` header over the raw body; throws when forged or too old. */
  verifyWebhook(rawBody: string, signature: string): PaymentEvent;
}

export interface StripeClientOptions {
  secretKey: string;
  webhookSecret: string | undefined;
  /** Base URL override (`http://127.0.0.1:12111` in tests, a mock or proxy elsewhere). */
  apiBase?: string | undefined;
  /** Webhook timestamps older than this are refused as replays (Stripe's default is 300 s). */
  webhookToleranceSeconds?: number;
  timeoutMs?: number;
}

/** The Stripe SDK behind {@link PaymentsClient}. */
export class StripeSdkClient implements PaymentsClient {
  readonly stripe: Stripe;
  private readonly tolerance: number;

  constructor(private readonly opts: StripeClientOptions) {
    const base = opts.apiBase ? new URL(opts.apiBase) : undefined;
    this.stripe = new Stripe(opts.secretKey, {
      // Our outbox owns retries (backoff with jitter, persisted attempts); SDK retries on top
      // would multiply them and hide them from the attempt count.
      maxNetworkRetries: 0,
      timeout: opts.timeoutMs ?? 20_000,
      telemetry: false,
      ...(base
        ? {
            host: base.hostname,
            port: base.port || (base.protocol === "https:" ? 443 : 80),
            protocol: base.protocol === "http:" ? "http" : "https",
          }
        : {}),
    });
    this.tolerance = opts.webhookToleranceSeconds ?? 300;
  }

  async createCustomer(input: {
    orgId: string;
    name: string;
    idempotencyKey: string;
  }): Promise<string> {
    const customer = await this.call(() =>
      this.stripe.customers.create(
        { name: input.name, metadata: { org_id: input.orgId } },
        { idempotencyKey: input.idempotencyKey },
      ),
    );
    return customer.id;
  }

  async createCheckoutSession(input: CheckoutInput): Promise<{ id: string; url: string }> {
    const session = await this.call(() =>
      this.stripe.checkout.sessions.create(
        {
          mode: "payment",
          customer: input.customerId,
          client_reference_id: input.orgId,
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: "usd",
                unit_amount: input.amountCents,
                product_data: { name: "Portal credits" },
              },
            },
          ],
          metadata: { org_id: input.orgId },
          // Refund events carry the charge, not the session: the org id must travel with it.
          payment_intent_data: { metadata: { org_id: input.orgId } },
          success_url: input.successUrl,
          cancel_url: input.cancelUrl,
        },
        { idempotencyKey: input.idempotencyKey },
      ),
    );
    if (!session.url)
      throw new PaymentProviderError("checkout session without url", 502, undefined);
    return { id: session.id, url: session.url };
  }

  async sendMeterEvent(input: MeterEventInput, idempotencyKey: string): Promise<void> {
    await this.call(() =>
      this.stripe.billing.meterEvents.create(
        {
          event_name: input.eventName,
          identifier: input.identifier,
          timestamp: input.timestamp,
          payload: { stripe_customer_id: input.customerId, value: input.value.toString() },
        },
        { idempotencyKey },
      ),
    );
  }

  verifyWebhook(rawBody: string, signature: string): PaymentEvent {
    if (!this.opts.webhookSecret) throw new Error("STRIPE_WEBHOOK_SECRET is not set");
    const event = this.stripe.webhooks.constructEvent(
      rawBody,
      signature,
      this.opts.webhookSecret,
      this.tolerance,
    );
    // Stripe's SDK bounds a signature's age but not a timestamp in the future; the replay window
    // is both ways here.
    const t = Number(/(?:^|,)\s*t=(\d+)/.exec(signature)?.[1]);
    if (!Number.isFinite(t) || t > Date.now() / 1000 + this.tolerance) {
      throw new Error("webhook timestamp is in the future, outside the tolerance");
    }
    const object = (event.data as { object?: unknown } | undefined)?.object;
    return {
      id: event.id,
      type: event.type,
      // A signed event without an object (never sent by Stripe) is one we do not bill on.
      object:
        object !== null && typeof object === "object" ? (object as Record<string, unknown>) : {},
    };
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof Stripe.errors.StripeError) {
        throw new PaymentProviderError(err.message, err.statusCode, err.code);
      }
      throw err;
    }
  }
}
