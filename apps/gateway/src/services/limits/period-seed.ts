import { and, type Database, eq, gte, sql, usageDaily } from "@portal/db";

/**
 * Requests an org has on record since `startMs` (a UTC day boundary: the ISO week's Monday), from
 * the `usage_daily` rollup that each usage batch updates. The console's allowance view reads it,
 * and the in-process limiter seeds its weekly counter with it, so a restart of a gateway without
 * Redis does not hand every free org a fresh allowance.
 */
export async function recordedRequestsSince(
  db: Database,
  orgId: string,
  startMs: number,
): Promise<number> {
  const [row] = await db
    .select({ used: sql<string>`coalesce(sum(${usageDaily.requests}), 0)` })
    .from(usageDaily)
    .where(
      and(
        eq(usageDaily.orgId, orgId),
        gte(usageDaily.day, new Date(startMs).toISOString().slice(0, 10)),
      ),
    );
  return Number(row?.used ?? 0);
}
