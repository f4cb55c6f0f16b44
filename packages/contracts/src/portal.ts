import { z } from "zod";

/**
 * Request bodies of the portal (`/portal/api/*`) and operator (`/admin/api/*`) JSON APIs, and
 * the shapes they answer with. The web app imports the types; the gateway validates with the
 * schemas.
 */

export const MemberRole = z.enum(["owner", "admin", "member"]);
export type MemberRole = z.infer<typeof MemberRole>;

const Email = z
  .email()
  .max(254)
  .transform((e) => e.trim().toLowerCase());
/**
 * Invisible characters that change how the text around them reads: the bidirectional embedding,
 * override and isolate controls (U+202A–U+202E, U+2066–U+2069: "Trojan Source" spoofing, a name
 * that shows as something else) and the zero-width space, word joiner and BOM. Zero-width
 * (non-)joiners and the LRM/RLM marks stay: scripts and emoji sequences need them.
 */
const INVISIBLE = "\\u202A-\\u202E\\u2066-\\u2069\\u200B\\u2060\\uFEFF";

/**
 * A name people read in the console, statements and exports (user, org, key, plan, model): one
 * line of 1–100 characters, no control characters (a newline or tab in a key name broke rows in
 * statement CSVs) and none of the invisible characters above. A pattern (not a refinement), so
 * the OpenAPI document shows it.
 */
export const DisplayName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(
    new RegExp(`^[^\\p{Cc}${INVISIBLE}]*$`, "u"),
    "must not contain control characters (newlines, tabs) or invisible direction overrides",
  );

/** Free text an operator writes (a reason): several lines allowed, nothing else invisible. */
export const OperatorNote = z
  .string()
  .trim()
  .min(1)
  .max(500)
  .regex(
    new RegExp(`^(?:[^\\p{Cc}${INVISIBLE}]|\\r?\\n)*$`, "u"),
    "must not contain control characters other than line breaks, or invisible direction overrides",
  );

const Password = z.string().min(10, "use at least 10 characters").max(200);

export const SignUpBody = z.strictObject({
  email: Email,
  password: Password,
  name: DisplayName.optional(),
});
export type SignUpBody = z.input<typeof SignUpBody>;

export const SignInBody = z.strictObject({
  email: Email,
  password: z.string().min(1).max(200),
});
export type SignInBody = z.input<typeof SignInBody>;

export const UpdateProfileBody = z.strictObject({ name: DisplayName });
export const ChangePasswordBody = z.strictObject({
  current_password: z.string().min(1).max(200),
  new_password: Password,
});

export const CreateOrgBody = z.strictObject({ name: DisplayName });
export const UpdateOrgBody = z.strictObject({ name: DisplayName });
export const UpdateMemberBody = z.strictObject({ role: MemberRole });
export const CreateInvitationBody = z.strictObject({
  email: Email,
  role: MemberRole.default("member"),
});
export const AcceptInvitationBody = z.strictObject({ token: z.string().min(20).max(200) });

const Limit = (max: number) => z.number().int().min(1).max(max).nullable();
/** Per-key limit overrides; null clears an override (the plan's limit applies). */
export const KeyLimits = z.strictObject({
  rpm_limit: Limit(1_000_000).optional(),
  tpm_limit: Limit(1_000_000_000).optional(),
  concurrency_limit: Limit(10_000).optional(),
});

export const CreateKeyBody = KeyLimits.extend({
  name: DisplayName,
  expires_at: z.iso.datetime({ offset: true }).nullable().optional(),
});
export type CreateKeyBody = z.input<typeof CreateKeyBody>;

export const UpdateKeyBody = KeyLimits.extend({
  name: DisplayName.optional(),
});
export type UpdateKeyBody = z.input<typeof UpdateKeyBody>;

export const RollKeyBody = z.strictObject({
  /** How long the old key keeps working; 0 revokes it at once. Default 24 h, at most 7 days. */
  grace_seconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .default(86_400),
});
export type RollKeyBody = z.input<typeof RollKeyBody>;

export const UsageQuery = z.object({
  days: z.coerce.number().int().min(1).max(90).default(30),
});

export type KeyStatus = "active" | "rolling" | "revoked" | "expired" | "disabled";

export interface ApiKeyView {
  id: string;
  org_id: string;
  name: string;
  /** `cx_live_XXXX…abcd`: enough to recognise a key, never enough to use it. */
  masked: string;
  start: string;
  last4: string;
  status: KeyStatus;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  disabled: boolean;
  rpm_limit: number | null;
  tpm_limit: number | null;
  concurrency_limit: number | null;
  rolled_from_id: string | null;
}

export interface CreatedKey {
  key: ApiKeyView;
  /** The full key. Returned exactly once, never stored. */
  plaintext: string;
}

export interface UserView {
  id: string;
  email: string;
  name: string | null;
  is_operator: boolean;
  has_password: boolean;
  created_at: string;
}

export interface PlanView {
  id: string;
  slug: string;
  name: string;
  billing_mode: "free" | "prepaid" | "postpaid";
  requests_per_minute_key: number;
  requests_per_minute_org: number;
  tokens_per_minute_org: number;
  max_concurrent_per_key: number;
  weekly_request_allowance: number | null;
}

export interface OrgView {
  id: string;
  name: string;
  slug: string;
  status: "active" | "disabled";
  disabled_reason: string | null;
  plan: PlanView;
  created_at: string;
}

export interface MembershipView {
  org: OrgView;
  role: MemberRole;
}

export interface MeResponse {
  user: UserView;
  memberships: MembershipView[];
  /** Send back as `X-CSRF-Token` on every POST/PATCH/PUT/DELETE (cookie sessions only). */
  csrf_token: string | null;
}

export interface UsageDay {
  day: string;
  model: string;
  api_key_id: string;
  requests: number;
  failed: number;
  prompt_tokens: number;
  completion_tokens: number;
  /** micro-USD as a decimal string (integers beyond 2^53 stay exact). */
  cost_micros: string;
}

export interface AllowanceView {
  /** Requests per ISO week; null when the plan has no weekly allowance. */
  limit: number | null;
  used: number;
  /** Start of the next window (Monday 00:00 UTC). */
  resets_at: string;
  window: "week";
}

export interface UsageResponse {
  from: string;
  to: string;
  days: UsageDay[];
  keys: Array<{ id: string; name: string; masked: string }>;
  allowance: AllowanceView;
  plan: PlanView;
}

export type LedgerKind = "credit_purchase" | "grant" | "usage_charge" | "refund" | "adjustment";

export interface LedgerEntryView {
  id: string;
  kind: LedgerKind;
  /** Signed micro-USD as a decimal string: credits positive, usage charges negative. */
  amount_micros: string;
  reference: string;
  created_at: string;
}

export interface BalanceView {
  /** What new requests can spend now: credits − spent − reserved (micro-USD strings). */
  available_micros: string;
  /** Held by requests in flight. */
  reserved_micros: string;
  credits_micros: string;
  spent_micros: string;
}

export interface BillingResponse {
  plan: PlanView;
  /** Prepaid plans only; null for free and postpaid plans. */
  balance: BalanceView | null;
  /** The most recent entries, newest first. */
  ledger: LedgerEntryView[];
  /** Whether "Buy credits" works here (payments configured and the plan is prepaid). */
  credit_purchases: { available: boolean };
}
