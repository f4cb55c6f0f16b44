import type { CreatedKey } from "@portal/contracts";
import { type Database, eq, organizations, plans } from "@portal/db";
import type { OrgContext } from "./context.js";
import { ResourceNotFoundError } from "./errors.js";
import { createKey } from "./keys.js";

/** How long a playground key works. Long enough for a session of trying prompts, no longer. */
export const PLAYGROUND_KEY_TTL_MS = 15 * 60_000;
/** Playground keys are throttled well below any plan: they serve one person typing. */
const PLAYGROUND_RPM = 10;
const PLAYGROUND_CONCURRENCY = 1;

/**
 * Mint a short-lived key for the console playground. It is an ordinary key (same hashing, same
 * enforcement path, audited as `key.created`), but it expires after 15 minutes, is limited to a
 * few requests per minute and one at a time, and its plaintext lives only in the tab's memory.
 * That bounds what a leaked playground key is worth, and the user never has to paste a
 * long-lived production key into a web page.
 */
export async function mintPlaygroundKey(db: Database, ctx: OrgContext): Promise<CreatedKey> {
  const [row] = await db
    .select({ rpm: plans.requestsPerMinuteKey, concurrency: plans.maxConcurrentPerKey })
    .from(organizations)
    .innerJoin(plans, eq(plans.id, organizations.planId))
    .where(eq(organizations.id, ctx.orgId))
    .limit(1);
  if (!row) throw new ResourceNotFoundError("organization");
  const expiresAt = new Date(Date.now() + PLAYGROUND_KEY_TTL_MS);
  return createKey(db, ctx, {
    name: "Playground (15 min)",
    expires_at: expiresAt.toISOString(),
    rpm_limit: Math.min(PLAYGROUND_RPM, row.rpm),
    concurrency_limit: Math.min(PLAYGROUND_CONCURRENCY, row.concurrency),
  });
}
