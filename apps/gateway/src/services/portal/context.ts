import { newId } from "@portal/contracts";
import { auditLog, type Database } from "@portal/db";

/** A drizzle transaction, whichever driver is underneath. */
export type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** Who is acting and for which request; every service call and audit row carries it. */
export interface ActorContext {
  userId: string;
  /** `operator` for /admin actions, `user` for /portal actions. */
  kind: "user" | "operator";
  requestId: string;
}

/** An actor acting inside one org (tenant-scoped services take this). */
export interface OrgContext extends ActorContext {
  orgId: string;
}

/** Append the audit row of a mutation, inside the mutation's transaction. */
export async function writeAudit(
  tx: Tx,
  ctx: ActorContext,
  entry: {
    orgId: string | null;
    action: string;
    targetType: string;
    targetId: string;
    details?: Record<string, unknown>;
  },
): Promise<void> {
  await tx.insert(auditLog).values({
    id: newId("aud"),
    orgId: entry.orgId,
    actorKind: ctx.kind,
    actorId: ctx.userId,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    details: entry.details ?? {},
    requestId: ctx.requestId,
  });
}

/** ISO string of a date, or null. */
export function iso(d: Date | null | undefined): string | null {
  return d ? d.toISOString() : null;
}
