import type { ApiKeyView, KeyStatus, OrgView, PlanView, UserView } from "@portal/contracts";
import type { ApiKey, Organization, Plan, User } from "@portal/db";
import { iso } from "./context.js";

/** Public shape of a plan. */
export function planView(p: Plan): PlanView {
  return {
    id: p.id,
    slug: p.slug,
    name: p.name,
    billing_mode: p.billingMode,
    requests_per_minute_key: p.requestsPerMinuteKey,
    requests_per_minute_org: p.requestsPerMinuteOrg,
    tokens_per_minute_org: p.tokensPerMinuteOrg,
    max_concurrent_per_key: p.maxConcurrentPerKey,
    weekly_request_allowance: p.weeklyRequestAllowance,
  };
}

/** Public shape of an org with its plan. */
export function orgView(o: Organization, p: Plan): OrgView {
  return {
    id: o.id,
    name: o.name,
    slug: o.slug,
    status: o.status,
    disabled_reason: o.disabledReason,
    plan: planView(p),
    created_at: o.createdAt.toISOString(),
  };
}

/** Public shape of a user (never the password hash). */
export function userView(u: User): UserView {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    is_operator: u.isOperator,
    has_password: u.passwordHash !== null,
    created_at: u.createdAt.toISOString(),
  };
}

/** Where a key stands right now; `rolling` = replaced, still valid until its revoked_at. */
export function keyStatus(k: ApiKey, now = Date.now()): KeyStatus {
  if (k.disabled) return "disabled";
  if (k.revokedAt) return k.revokedAt.getTime() <= now ? "revoked" : "rolling";
  if (k.expiresAt && k.expiresAt.getTime() <= now) return "expired";
  return "active";
}

/** The masked list entry of a key. `lastUsedAt` may come from usage when the column lags. */
export function keyView(k: ApiKey, lastUsedAt: Date | null = k.lastUsedAt): ApiKeyView {
  return {
    id: k.id,
    org_id: k.orgId,
    name: k.name,
    masked: `${k.start}…${k.last4}`,
    start: k.start,
    last4: k.last4,
    status: keyStatus(k),
    created_at: k.createdAt.toISOString(),
    last_used_at: iso(lastUsedAt),
    expires_at: iso(k.expiresAt),
    revoked_at: iso(k.revokedAt),
    disabled: k.disabled,
    rpm_limit: k.rpmLimit,
    tpm_limit: k.tpmLimit,
    concurrency_limit: k.concurrencyLimit,
    rolled_from_id: k.rolledFromId,
  };
}
