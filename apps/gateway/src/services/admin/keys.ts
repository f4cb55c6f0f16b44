import { and, apiKeys, type Database, desc, eq, sql } from "@portal/db";
import { type ActorContext, writeAudit } from "../portal/context.js";
import { ResourceNotFoundError } from "../portal/errors.js";
import { keyView } from "../portal/views.js";

/** Keys across orgs (optionally one org's), newest first. */
export async function listAllKeys(db: Database, orgId: string | undefined, limit = 200) {
  const rows = await db
    .select()
    .from(apiKeys)
    .where(orgId ? eq(apiKeys.orgId, orgId) : sql`true`)
    .orderBy(desc(apiKeys.createdAt))
    .limit(limit);
  return rows.map((k) => keyView(k));
}

/** An operator disables (or re-enables) a key; returns its hash for cache invalidation. */
export async function setKeyDisabled(
  db: Database,
  ctx: ActorContext,
  keyId: string,
  disabled: boolean,
) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiKeys)
      .set({ disabled })
      .where(and(eq(apiKeys.id, keyId)))
      .returning();
    if (!row) throw new ResourceNotFoundError("API key");
    await writeAudit(tx, ctx, {
      orgId: row.orgId,
      action: disabled ? "key.disabled" : "key.enabled",
      targetType: "api_key",
      targetId: row.id,
    });
    return { key: keyView(row), hash: row.keyHash };
  });
}
