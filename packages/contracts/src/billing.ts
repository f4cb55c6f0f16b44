import { z } from "zod";

/** `POST /portal/api/orgs/{orgId}/billing/checkout`: buy prepaid credits through Stripe Checkout. */
export const CheckoutBody = z
  .strictObject({
    /** Whole US cents (integers: no float ever touches money). */
    amount_cents: z.number().int().min(1).max(100_000_000),
  })
  .meta({ id: "CheckoutBody", example: { amount_cents: 2500 } });
export type CheckoutBody = z.infer<typeof CheckoutBody>;

export interface CheckoutResponse {
  id: string;
  /** Stripe-hosted payment page; the portal redirects the browser there. */
  url: string;
}

/**
 * Years billing can name: from the Unix epoch to 9998, so the exclusive end of any range (the
 * day or month after) is still a four-digit year Postgres and JavaScript both read the same way
 * (`Date.UTC` maps years 0–99 to the 1900s; year 10000 is not ISO 8601's four digits).
 */
const MIN_YEAR = 1970;
const MAX_YEAR = 9998;
const inYears = (value: string) => {
  const year = Number(value.slice(0, 4));
  return year >= MIN_YEAR && year <= MAX_YEAR;
};
const Day = z.iso.date().refine(inYears, `a date between ${MIN_YEAR}-01-01 and ${MAX_YEAR}-12-31`);

/** The fields of an org's export query (the portal routes; the org is in the path). */
export const OrgExportQueryFields = z.object({
  from: Day.describe("First UTC day, YYYY-MM-DD"),
  to: Day.describe("Last UTC day, inclusive"),
  format: z.enum(["csv", "jsonl"]).default("csv"),
});
/** The operator exports' fields: one org, or every org when omitted. */
export const ExportQueryFields = OrgExportQueryFields.extend({
  org_id: z.string().min(1).optional().describe("Only this org (omitted: every org)"),
});

/** Query of the streamed exports: a UTC day range [from, to] inclusive and a format. */
export const ExportQuery = ExportQueryFields.refine((q) => q.from <= q.to, {
  message: "from must not be after to",
  path: ["from"],
});
export type ExportQuery = z.infer<typeof ExportQuery>;

/**
 * `GET /admin/api/billing/reconciliation`: a UTC day range [from, to] inclusive (either may be
 * omitted: `to` defaults to now, `from` to two days before `to`), every org or one.
 */
export const ReconciliationQuery = z
  .object({
    from: Day.optional().describe("First UTC day (default: two days before `to`)"),
    to: Day.optional().describe("Last UTC day, inclusive (default: now)"),
    org_id: z.string().trim().max(200).optional().describe("Only this org"),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: "from must not be after to",
    path: ["from"],
  });
export type ReconciliationQuery = z.infer<typeof ReconciliationQuery>;

/** Query of the monthly statement. */
export const StatementQuery = z.object({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, "month must be YYYY-MM")
    .refine(inYears, `a month between ${MIN_YEAR}-01 and ${MAX_YEAR}-12`),
  format: z.enum(["json", "csv"]).default("json"),
});
export type StatementQuery = z.infer<typeof StatementQuery>;
