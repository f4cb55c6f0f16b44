import { newId } from "@portal/contracts";
import {
  apiKeys,
  auditLog,
  type Database,
  memberships,
  models,
  organizations,
  plans,
  routerPools,
  routerTargets,
  users,
} from "@portal/db";
import { generateApiKey, hashApiKey, keyDisplayParts } from "./api-keys.js";
import type { SecretBox } from "./secret-box.js";

/** The plans every installation starts with; operators edit them later. */
export const DEFAULT_PLANS = [
  {
    slug: "free",
    name: "Free",
    billingMode: "free",
    requestsPerMinuteKey: 20,
    requestsPerMinuteOrg: 60,
    tokensPerMinuteOrg: 100_000,
    maxConcurrentPerKey: 4,
    weeklyRequestAllowance: 1_000,
  },
  {
    slug: "prepaid",
    name: "Prepaid",
    billingMode: "prepaid",
    requestsPerMinuteKey: 300,
    requestsPerMinuteOrg: 1_200,
    tokensPerMinuteOrg: 2_000_000,
    maxConcurrentPerKey: 32,
    weeklyRequestAllowance: null,
  },
  {
    slug: "postpaid",
    name: "Postpaid",
    billingMode: "postpaid",
    requestsPerMinuteKey: 600,
    requestsPerMinuteOrg: 3_000,
    tokensPerMinuteOrg: 5_000_000,
    maxConcurrentPerKey: 64,
    weeklyRequestAllowance: null,
  },
] as const;

export interface BootstrapInput {
  email: string;
  /** Use this plaintext key instead of generating one (scripts, CI). */
  fixedKey?: string | undefined;
  /** Router targets for pool `default` (embedded routers). */
  targets: Array<{ url: string; sessionId: number; routerKey: string }>;
}

export interface BootstrapResult {
  orgId: string;
  userId: string;
  apiKey: string;
}

/** Idempotent seed of the default plans; returns the free plan's id. */
export async function ensurePlans(db: Database): Promise<Map<string, string>> {
  for (const p of DEFAULT_PLANS) {
    await db
      .insert(plans)
      .values({ id: newId("plan"), ...p })
      .onConflictDoNothing({ target: plans.slug });
  }
  const rows = await db.select({ id: plans.id, slug: plans.slug }).from(plans);
  return new Map(rows.map((r) => [r.slug, r.id]));
}

/**
 * First start only: the dev org, an operator admin, an API key, pool `default` with the given
 * targets and alias `default`. Returns null when the database was already bootstrapped.
 */
export async function bootstrap(
  db: Database,
  secrets: SecretBox,
  input: BootstrapInput,
): Promise<BootstrapResult | null> {
  const planIds = await ensurePlans(db);
  const existing = await db.select({ id: organizations.id }).from(organizations).limit(1);
  if (existing.length > 0) return null;
  const freePlanId = planIds.get("free");
  if (!freePlanId) throw new Error("free plan missing after seeding");

  const apiKey = input.fixedKey ?? generateApiKey();
  const orgId = newId("org");
  const userId = newId("usr");
  const poolId = newId("pool");
  await db.transaction(async (tx) => {
    await tx
      .insert(organizations)
      .values({ id: orgId, name: "Dev Org", slug: "dev", planId: freePlanId });
    await tx
      .insert(users)
      .values({ id: userId, email: input.email, name: "Admin", isOperator: true });
    await tx.insert(memberships).values({ id: newId("mem"), orgId, userId, role: "owner" });
    const keyId = newId("key");
    await tx.insert(apiKeys).values({
      id: keyId,
      orgId,
      createdBy: userId,
      name: "bootstrap",
      keyHash: hashApiKey(apiKey),
      ...keyDisplayParts(apiKey),
    });
    await tx.insert(routerPools).values({ id: poolId, name: "default" });
    for (const t of input.targets) {
      await tx.insert(routerTargets).values({
        id: newId("tgt"),
        poolId,
        url: t.url,
        sessionId: t.sessionId,
        routerKeyCiphertext: secrets.encrypt(t.routerKey),
      });
    }
    await tx.insert(models).values({
      id: newId("mdl"),
      alias: "default",
      poolId,
      displayName: "Default (demo)",
      promptTemplate: "{prompt}",
      contextLength: 8192,
      defaultMaxTokens: 256,
      maxMaxTokens: 4096,
      inputPriceMicros: 1_000_000n,
      outputPriceMicros: 1_000_000n,
    });
    await tx.insert(auditLog).values({
      id: newId("aud"),
      orgId,
      actorKind: "system",
      action: "bootstrap",
      targetType: "organization",
      targetId: orgId,
      details: { apiKeyId: keyId, poolId },
    });
  });
  return { orgId, userId, apiKey };
}
