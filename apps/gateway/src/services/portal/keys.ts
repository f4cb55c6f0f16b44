import type { ApiKeyView, CreatedKey } from "@portal/contracts";
import { newId } from "@portal/contracts";
import {
  type ApiKey,
  and,
  apiKeys,
  type Database,
  desc,
  eq,
  organizations,
  plans,
  sql,
} from "@portal/db";
import { generateApiKey, hashApiKey, keyDisplayParts } from "../api-keys.js";
import { type OrgContext, writeAudit } from "./context.js";
import { ResourceNotFoundError, RuleViolationError } from "./errors.js";
import { keyView } from "./views.js";

export interface KeyLimitsInput {
  rpm_limit?: number | null | undefined;
  tpm_limit?: number | null | undefined;
  concurrency_limit?: number | null | undefined;
}

/** Keys of one org, newest first, with the last use from usage when the column lags behind. */
export async function listKeys(db: Database, orgId: string): Promise<ApiKeyView[]> {
  const rows = await db
    .select({
      key: apiKeys,
      // usage_events is indexed on (api_key_id, created_at): the max is an index probe.
      lastUsed: sql<
        Date | string | null
      >`greatest(${apiKeys.lastUsedAt}, (select max(created_at) from usage_events u where u.api_key_id = ${apiKeys.id}))`,
    })
    .from(apiKeys)
    .where(eq(apiKeys.orgId, orgId))
    .orderBy(desc(apiKeys.createdAt));
  return rows.map((r) => keyView(r.key, r.lastUsed ? new Date(r.lastUsed) : null));
}

/** One key of one org; another org's key is "not found". */
export async function findKey(db: Database, orgId: string, keyId: string): Promise<ApiKey> {
  const [key] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.orgId, orgId)))
    .limit(1);
  if (!key) throw new ResourceNotFoundError("API key");
  return key;
}

/** Per-key overrides may only tighten the plan's limits. */
async function checkLimits(db: Database, orgId: string, input: KeyLimitsInput): Promise<void> {
  const [row] = await db
    .select({ plan: plans })
    .from(organizations)
    .innerJoin(plans, eq(plans.id, organizations.planId))
    .where(eq(organizations.id, orgId))
    .limit(1);
  if (!row) throw new ResourceNotFoundError("organization");
  const caps = [
    ["rpm_limit", input.rpm_limit, row.plan.requestsPerMinuteKey],
    ["tpm_limit", input.tpm_limit, row.plan.tokensPerMinuteOrg],
    ["concurrency_limit", input.concurrency_limit, row.plan.maxConcurrentPerKey],
  ] as const;
  for (const [field, value, cap] of caps) {
    if (value != null && value > cap) {
      throw new RuleViolationError(
        `${field} ${value} is above your plan's limit of ${cap}; per-key limits can only lower it.`,
        { field, limit: cap },
      );
    }
  }
}

function limitColumns(input: KeyLimitsInput) {
  return {
    ...(input.rpm_limit !== undefined ? { rpmLimit: input.rpm_limit } : {}),
    ...(input.tpm_limit !== undefined ? { tpmLimit: input.tpm_limit } : {}),
    ...(input.concurrency_limit !== undefined ? { concurrencyLimit: input.concurrency_limit } : {}),
  };
}

/** Issue a key; the plaintext is in the answer and nowhere else. */
export async function createKey(
  db: Database,
  ctx: OrgContext,
  input: KeyLimitsInput & { name: string; expires_at?: string | null | undefined },
): Promise<CreatedKey> {
  if (input.expires_at != null && Date.parse(input.expires_at) <= Date.now()) {
    throw new RuleViolationError("expires_at must be in the future.", { field: "expires_at" });
  }
  await checkLimits(db, ctx.orgId, input);
  const plaintext = generateApiKey();
  const id = newId("key");
  const key = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiKeys)
      .values({
        id,
        orgId: ctx.orgId,
        createdBy: ctx.userId,
        name: input.name,
        keyHash: hashApiKey(plaintext),
        ...keyDisplayParts(plaintext),
        expiresAt: input.expires_at ? new Date(input.expires_at) : null,
        ...limitColumns(input),
      })
      .returning();
    if (!row) throw new Error("key insert returned nothing");
    await writeAudit(tx, ctx, {
      orgId: ctx.orgId,
      action: "key.created",
      targetType: "api_key",
      targetId: id,
      details: { name: input.name, start: row.start, last4: row.last4 },
    });
    return row;
  });
  return { key: keyView(key), plaintext };
}

/** Rename a key or change its limits. Returns the key and its hash (to invalidate caches). */
export async function updateKey(
  db: Database,
  ctx: OrgContext,
  keyId: string,
  input: KeyLimitsInput & { name?: string | undefined },
): Promise<{ key: ApiKeyView; hash: string }> {
  const existing = await findKey(db, ctx.orgId, keyId);
  await checkLimits(db, ctx.orgId, input);
  const changes = { ...(input.name ? { name: input.name } : {}), ...limitColumns(input) };
  // Nothing to change (an empty PATCH): the key as it is, no write and no audit entry.
  if (Object.keys(changes).length === 0) return { key: keyView(existing), hash: existing.keyHash };
  const key = await db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiKeys)
      .set(changes)
      .where(and(eq(apiKeys.id, existing.id), eq(apiKeys.orgId, ctx.orgId)))
      .returning();
    if (!row) throw new ResourceNotFoundError("API key");
    await writeAudit(tx, ctx, {
      orgId: ctx.orgId,
      action: "key.updated",
      targetType: "api_key",
      targetId: row.id,
      details: { ...input },
    });
    return row;
  });
  return { key: keyView(key), hash: key.keyHash };
}

/**
 * Roll a key: a new key with the same name and limits, and the old one revoked at
 * now + grace (0 = at once) so clients can switch over without downtime.
 */
export async function rollKey(
  db: Database,
  ctx: OrgContext,
  keyId: string,
  graceSeconds: number,
): Promise<CreatedKey & { old_key: ApiKeyView; oldHash: string }> {
  const old = await findKey(db, ctx.orgId, keyId);
  const now = Date.now();
  const expired = old.expiresAt !== null && old.expiresAt.getTime() <= now;
  if (old.disabled || expired || (old.revokedAt && old.revokedAt.getTime() <= now)) {
    throw new RuleViolationError("Only a usable key can be rolled; create a new key instead.");
  }
  if (old.revokedAt) throw new RuleViolationError("This key has already been rolled.");
  const plaintext = generateApiKey();
  const id = newId("key");
  const revokeAt = new Date(now + graceSeconds * 1000);
  const [created, updated] = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiKeys)
      .values({
        id,
        orgId: ctx.orgId,
        createdBy: ctx.userId,
        name: old.name,
        keyHash: hashApiKey(plaintext),
        ...keyDisplayParts(plaintext),
        expiresAt: old.expiresAt,
        rpmLimit: old.rpmLimit,
        tpmLimit: old.tpmLimit,
        concurrencyLimit: old.concurrencyLimit,
        rolledFromId: old.id,
      })
      .returning();
    const [oldRow] = await tx
      .update(apiKeys)
      .set({ revokedAt: revokeAt })
      .where(and(eq(apiKeys.id, old.id), eq(apiKeys.orgId, ctx.orgId)))
      .returning();
    if (!row || !oldRow) throw new Error("roll wrote nothing");
    await writeAudit(tx, ctx, {
      orgId: ctx.orgId,
      action: "key.rolled",
      targetType: "api_key",
      targetId: old.id,
      details: { newKeyId: id, graceSeconds, oldRevokedAt: revokeAt.toISOString() },
    });
    return [row, oldRow] as const;
  });
  return { key: keyView(created), plaintext, old_key: keyView(updated), oldHash: old.keyHash };
}

/** Revoke a key now (also ends a roll's grace period early). */
export async function revokeKey(
  db: Database,
  ctx: OrgContext,
  keyId: string,
): Promise<{ key: ApiKeyView; hash: string }> {
  const existing = await findKey(db, ctx.orgId, keyId);
  // Revoking twice keeps the first revocation time.
  if (existing.revokedAt && existing.revokedAt.getTime() <= Date.now()) {
    return { key: keyView(existing), hash: existing.keyHash };
  }
  const key = await db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.id, existing.id), eq(apiKeys.orgId, ctx.orgId)))
      .returning();
    if (!row) throw new ResourceNotFoundError("API key");
    await writeAudit(tx, ctx, {
      orgId: ctx.orgId,
      action: "key.revoked",
      targetType: "api_key",
      targetId: row.id,
      details: { start: row.start, last4: row.last4 },
    });
    return row;
  });
  return { key: keyView(key), hash: key.keyHash };
}
