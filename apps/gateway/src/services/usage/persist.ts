import {
  type Database,
  ensurePartitionsCached,
  forgetPartitions,
  isMissingPartitionError,
  type NewUsageEvent,
  rowsOf,
  sql,
  usageDaily,
} from "@portal/db";

/** One served request's usage as it travels through the queue. */
export interface QueuedUsage {
  event: NewUsageEvent;
  /** What the prepaid balance was charged (0 for free / postpaid / failed requests). */
  chargeMicros: bigint;
}

/**
 * Write one batch in one transaction: usage rows (ON CONFLICT (request_id, created_at) DO
 * NOTHING: the partitioned table's key; an event's created_at is fixed when it is built, so a
 * replay carries the same pair), then — for exactly the rows that insert added — the usage_daily
 * increments. Replaying a batch (a writer crashed after commit, before acknowledging; an entry
 * both in the stream and the spool) therefore changes nothing. The monthly partitions the batch
 * needs are created first if missing.
 *
 * The prepaid charge travels on the row (`charge_micros`, `billed_entry_id` null) rather than as
 * a ledger row per request: the hourly rollup (services/billing/rollup.ts) turns the rows of each
 * closed (org, hour) into one `usage_charge` entry and marks them in the same transaction, so the
 * ledger grows by orgs × hours instead of by requests, and the balance stays exact in between:
 * balance = SUM(ledger) − SUM(charge_micros of rows not rolled up yet) (balance/ledger.ts).
 */
export async function persistUsageBatch(db: Database, items: QueuedUsage[]): Promise<number> {
  if (items.length === 0) return 0;
  const dates = () => items.map((i) => new Date(i.event.createdAt));
  await ensurePartitionsCached(db, "usage_events", dates());
  try {
    return await writeBatch(db, items);
  } catch (err) {
    if (!isMissingPartitionError(err)) throw err;
    // Our cache said the partition exists but it does not (dropped meanwhile): re-check, retry once.
    forgetPartitions(db);
    await ensurePartitionsCached(db, "usage_events", dates());
    return writeBatch(db, items);
  }
}

function writeBatch(db: Database, items: QueuedUsage[]): Promise<number> {
  return db.transaction(async (tx) => {
    const inserted = await insertEvents(tx, items);
    if (inserted.length === 0) return 0;
    const fresh = new Set(inserted.map((r) => r.requestId));
    const added = items.filter((i) => fresh.delete(i.event.requestId));

    const daily = new Map<string, typeof usageDaily.$inferInsert>();
    for (const { event: e } of added) {
      const day = new Date(e.createdAt).toISOString().slice(0, 10);
      const k = `${e.orgId}\u0000${e.apiKeyId}\u0000${e.modelAlias}\u0000${day}`;
      const row = daily.get(k) ?? {
        orgId: e.orgId,
        apiKeyId: e.apiKeyId,
        modelAlias: e.modelAlias,
        day,
        requests: 0,
        failedRequests: 0,
        promptTokens: 0,
        completionTokens: 0,
        costMicros: 0n,
      };
      row.requests = (row.requests ?? 0) + 1;
      // Cancelled requests (the client left) are billed, not failures.
      if (e.status === "failed") row.failedRequests = (row.failedRequests ?? 0) + 1;
      row.promptTokens = (row.promptTokens ?? 0) + e.promptTokens;
      row.completionTokens = (row.completionTokens ?? 0) + e.completionTokens;
      row.costMicros = (row.costMicros ?? 0n) + e.costMicros;
      daily.set(k, row);
    }
    // A fixed order, so two writers upserting overlapping days never deadlock.
    const rows = [...daily.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r);
    await tx
      .insert(usageDaily)
      .values(rows)
      .onConflictDoUpdate({
        target: [usageDaily.orgId, usageDaily.apiKeyId, usageDaily.modelAlias, usageDaily.day],
        set: {
          requests: sql`${usageDaily.requests} + excluded.requests`,
          failedRequests: sql`${usageDaily.failedRequests} + excluded.failed_requests`,
          promptTokens: sql`${usageDaily.promptTokens} + excluded.prompt_tokens`,
          completionTokens: sql`${usageDaily.completionTokens} + excluded.completion_tokens`,
          costMicros: sql`${usageDaily.costMicros} + excluded.cost_micros`,
        },
      });
    return added.length;
  });
}

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/**
 * One INSERT … SELECT FROM json_to_recordset($1): a single parameter however large the batch
 * (an INSERT … VALUES of 1,000 rows binds 16,000), and it works the same on pg and PGlite.
 */
async function insertEvents(tx: Tx, items: QueuedUsage[]): Promise<Array<{ requestId: string }>> {
  const rows = JSON.stringify(
    items.map(({ event: e, chargeMicros }) => ({
      request_id: e.requestId,
      org_id: e.orgId,
      api_key_id: e.apiKeyId,
      model_alias: e.modelAlias,
      router_pool: e.routerPool,
      router_target_id: e.routerTargetId ?? null,
      route: e.route,
      status: e.status,
      error_code: e.errorCode ?? null,
      prompt_tokens: e.promptTokens,
      completion_tokens: e.completionTokens,
      cost_micros: e.costMicros.toString(),
      latency_ms: e.latencyMs,
      upstream_ms: e.upstreamMs,
      stream: e.stream ?? false,
      billing_mode: e.billingMode ?? null,
      charge_micros: chargeMicros.toString(),
      created_at: new Date(e.createdAt).toISOString(),
    })),
  );
  const result = await tx.execute(sql`
    INSERT INTO usage_events (request_id, org_id, api_key_id, model_alias, router_pool,
      router_target_id, route, status, error_code, prompt_tokens, completion_tokens, cost_micros,
      latency_ms, upstream_ms, stream, billing_mode, charge_micros, created_at)
    SELECT request_id, org_id, api_key_id, model_alias, router_pool, router_target_id, route,
      status::usage_status, error_code, prompt_tokens, completion_tokens, cost_micros::bigint,
      latency_ms, upstream_ms, stream, billing_mode::billing_mode, charge_micros::bigint,
      created_at::timestamptz
    FROM json_to_recordset(${rows}::json) AS r(request_id text, org_id text, api_key_id text,
      model_alias text, router_pool text, router_target_id text, route text, status text,
      error_code text, prompt_tokens int, completion_tokens int, cost_micros text,
      latency_ms int, upstream_ms int, stream boolean, billing_mode text, charge_micros text,
      created_at text)
    ON CONFLICT (request_id, created_at) DO NOTHING
    RETURNING request_id AS "requestId"`);
  return rowsOf<{ requestId: string }>(result);
}

/** JSON for the stream (bigint and Date made explicit). */
export function encodeUsage(item: QueuedUsage): string {
  const e = item.event;
  return JSON.stringify({
    ...e,
    costMicros: e.costMicros.toString(),
    createdAt: new Date(e.createdAt).toISOString(),
    chargeMicros: item.chargeMicros.toString(),
  });
}

/** Inverse of {@link encodeUsage}; throws on anything malformed. */
export function decodeUsage(text: string): QueuedUsage {
  const raw = JSON.parse(text) as Record<string, unknown> & {
    costMicros: string;
    createdAt: string;
    chargeMicros: string;
  };
  const { chargeMicros, ...event } = raw;
  if (typeof event.requestId !== "string" || typeof event.orgId !== "string") {
    throw new Error("usage entry without requestId/orgId");
  }
  return {
    event: {
      ...(event as unknown as NewUsageEvent),
      costMicros: BigInt(event.costMicros),
      createdAt: new Date(event.createdAt),
    },
    chargeMicros: BigInt(chargeMicros),
  };
}
