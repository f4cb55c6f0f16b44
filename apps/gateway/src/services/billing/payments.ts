import { newId } from "@portal/contracts";
import { billingLedger, type Database, eq, organizations, sql, stripeCustomers } from "@portal/db";
import type { BalanceService } from "../balance/balance-service.js";
import type { PaymentEvent, PaymentsClient } from "./stripe-client.js";

/** One US cent in micro-USD (Stripe amounts are integer cents for USD). */
export const MICROS_PER_CENT = 10_000n;

/** Payment settings that come from the environment (env.ts → main.ts). */
export interface PaymentsConfig {
  client: PaymentsClient;
  /** Stripe meter `event_name` for postpaid usage (value = micro-USD). */
  meterEventName: string;
  successUrl: string;
  cancelUrl: string;
  /** Smallest / largest single credit purchase, in cents. */
  minPurchaseCents: number;
  maxPurchaseCents: number;
}

/** Credit purchases were asked for but this installation has no payment provider configured. */
export class PaymentsUnavailableError extends Error {
  constructor() {
    super("Credit purchases are not available on this installation (Stripe is not configured).");
    this.name = "PaymentsUnavailableError";
  }
}

/** A webhook whose signature does not verify (forged, tampered, or older than the tolerance). */
export class InvalidWebhookError extends Error {
  constructor(reason: string) {
    super(`Webhook refused: ${reason}`);
    this.name = "InvalidWebhookError";
  }
}

/**
 * The org's Stripe customer, created on first need. The Idempotency-Key is derived from the org
 * id, so two instances racing here get the same customer from Stripe (within its 24 h key
 * window), and the unique org key keeps one mapping.
 */
export async function ensureStripeCustomer(
  db: Database,
  client: PaymentsClient,
  orgId: string,
): Promise<string> {
  const [known] = await db
    .select({ customerId: stripeCustomers.customerId })
    .from(stripeCustomers)
    .where(eq(stripeCustomers.orgId, orgId));
  if (known) return known.customerId;
  const [org] = await db
    .select({ name: organizations.name })
    .from(organizations)
    .where(eq(organizations.id, orgId));
  if (!org) throw new Error(`no organization ${orgId}`);
  const customerId = await client.createCustomer({
    orgId,
    name: org.name,
    idempotencyKey: `portal-customer:${orgId}`,
  });
  await db.insert(stripeCustomers).values({ orgId, customerId }).onConflictDoNothing();
  const [row] = await db
    .select({ customerId: stripeCustomers.customerId })
    .from(stripeCustomers)
    .where(eq(stripeCustomers.orgId, orgId));
  return row?.customerId ?? customerId;
}

/** Start a Checkout Session selling `amountCents` of credits to the org; returns its URL. */
export async function startCreditCheckout(
  db: Database,
  payments: PaymentsConfig | undefined,
  input: { orgId: string; amountCents: number; requestId: string },
): Promise<{ id: string; url: string }> {
  if (!payments) throw new PaymentsUnavailableError();
  const customerId = await ensureStripeCustomer(db, payments.client, input.orgId);
  return payments.client.createCheckoutSession({
    orgId: input.orgId,
    customerId,
    amountCents: input.amountCents,
    successUrl: payments.successUrl,
    cancelUrl: payments.cancelUrl,
    // One session per request: a client retry of the same request id gets the same session.
    idempotencyKey: `portal-checkout:${input.requestId}`,
  });
}

export type PaymentEventOutcome =
  | { applied: true; orgId: string; kind: "credit_purchase" | "refund"; amountMicros: bigint }
  | { applied: false; reason: string };

/**
 * Apply one verified Stripe event to the ledger, exactly once: purchases are keyed by the
 * Checkout Session id, refunds by (charge, cumulative refunded amount), both unique references,
 * so a redelivered or replayed event changes nothing. Events we do not bill on are acknowledged
 * and ignored (Stripe stops redelivering on 2xx).
 */
export async function applyPaymentEvent(
  db: Database,
  balance: BalanceService,
  event: PaymentEvent,
): Promise<PaymentEventOutcome> {
  const o = event.object;
  if (
    event.type === "checkout.session.completed" ||
    event.type === "checkout.session.async_payment_succeeded"
  ) {
    // `completed` also fires for delayed methods before the money arrives: only "paid" credits.
    if (o.payment_status !== "paid") return { applied: false, reason: "not paid yet" };
    if (o.mode !== undefined && o.mode !== "payment") return { applied: false, reason: "not ours" };
    if (o.currency !== "usd") return { applied: false, reason: "currency is not usd" };
    const sessionId = stripeIdOf(o.id);
    if (sessionId === null) return { applied: false, reason: "no session id" };
    const orgId = await orgOf(db, o);
    const cents = integerOf(o.amount_total);
    if (!orgId || cents === null || cents <= 0n) return { applied: false, reason: "not ours" };
    if (cents > MAX_CENTS) return { applied: false, reason: "amount out of range" };
    const amountMicros = cents * MICROS_PER_CENT;
    const added = await balance.credit({
      orgId,
      kind: "credit_purchase",
      amountMicros,
      reference: `stripe:checkout:${sessionId}`,
    });
    return added
      ? { applied: true, orgId, kind: "credit_purchase", amountMicros }
      : { applied: false, reason: "already recorded" };
  }
  if (event.type === "charge.refunded") {
    if (o.currency !== "usd") return { applied: false, reason: "currency is not usd" };
    const chargeId = stripeIdOf(o.id);
    if (chargeId === null) return { applied: false, reason: "no charge id" };
    const orgId = await orgOf(db, o);
    const refundedCents = integerOf(o.amount_refunded);
    if (!orgId || refundedCents === null) return { applied: false, reason: "not ours" };
    if (refundedCents > MAX_CENTS) return { applied: false, reason: "amount out of range" };
    const delta = await db.transaction(async (tx) => {
      // Serialize refunds of one charge: "already refunded" is read and extended atomically.
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`portal_refund:${chargeId}`}))`);
      const [prior] = await tx
        .select({ s: sql<string>`coalesce(sum(${billingLedger.amountMicros}), 0)::text` })
        .from(billingLedger)
        // A prefix match, not LIKE: `_` in an id is a LIKE wildcard.
        .where(sql`starts_with(${billingLedger.reference}, ${`stripe:refund:${chargeId}:`})`);
      // Events can arrive out of order: book only growth of the cumulative refunded amount.
      const d = refundedCents * MICROS_PER_CENT + BigInt(prior?.s ?? "0");
      if (d <= 0n) return 0n;
      const rows = await tx
        .insert(billingLedger)
        .values({
          id: newId("led"),
          orgId,
          kind: "refund",
          amountMicros: -d,
          reference: `stripe:refund:${chargeId}:${refundedCents}`,
        })
        .onConflictDoNothing({ target: billingLedger.reference })
        .returning({ id: billingLedger.id });
      return rows.length > 0 ? d : 0n;
    });
    if (delta === 0n) return { applied: false, reason: "already recorded" };
    await balance.reconcile(orgId);
    return { applied: true, orgId, kind: "refund", amountMicros: -delta };
  }
  return { applied: false, reason: `event type ${event.type} is not billed` };
}

/** Stripe's largest charge ($999,999.99); anything above is not a payment we could have taken. */
const MAX_CENTS = 99_999_999n;

/** A Stripe object id (`cs_…`, `ch_…`): letters, digits and underscores, or null. */
function stripeIdOf(v: unknown): string | null {
  return typeof v === "string" && /^[A-Za-z0-9_]{1,255}$/.test(v) ? v : null;
}

function integerOf(v: unknown): bigint | null {
  return typeof v === "number" && Number.isSafeInteger(v) ? BigInt(v) : null;
}

/** The org an object belongs to: our metadata, else the Stripe customer we created for it. */
async function orgOf(db: Database, o: Record<string, unknown>): Promise<string | null> {
  const meta = (o.metadata ?? {}) as Record<string, unknown>;
  const claimed = typeof meta.org_id === "string" ? meta.org_id : o.client_reference_id;
  if (typeof claimed === "string") {
    const [org] = await db
      .select({ id: organizations.id })
      .from(organizations)
      .where(eq(organizations.id, claimed));
    if (org) return org.id;
  }
  if (typeof o.customer === "string") {
    const [row] = await db
      .select({ orgId: stripeCustomers.orgId })
      .from(stripeCustomers)
      .where(eq(stripeCustomers.customerId, o.customer));
    if (row) return row.orgId;
  }
  return null;
}
