// `npm run bench` (after run.ts) or `npx tsx bench/export.ts`: stream a billing export of
// BENCH_EXPORT_ROWS usage rows (default 1,000,000) of one org, CSV and JSON Lines, into a
// Writable that applies backpressure, and print rows/s and peak RSS. Memory must stay flat:
// the export holds one keyset page at a time. Uses DATABASE_URL when set, PGlite otherwise.
import { Writable } from "node:stream";
import { newId } from "@portal/contracts";
import { ensurePartitions, openDb, organizations, partitionName, plans, sql } from "@portal/db";
import { testDatabaseUrl } from "@portal/db/testing";
import { type ExportFormat, exportChunks, writeChunks } from "../src/services/billing/exports.js";
import { ensurePlans } from "../src/services/bootstrap.js";

const ROWS = Number(process.env.BENCH_EXPORT_ROWS ?? 1_000_000);
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

const handle = await openDb({ url: testDatabaseUrl(), dataDir: "memory://" });
await handle.migrate();
const db = handle.db;
await ensurePlans(db);
const [plan] = await db.select({ id: plans.id }).from(plans).limit(1);
const orgId = newId("org");
await db.insert(organizations).values({
  id: orgId,
  name: "bench export",
  slug: `bench-${orgId.slice(-10).toLowerCase()}`,
  planId: plan?.id ?? "",
});
// One month, so one partition; rows spread over it one second apart (keyset pages cross days).
const from = new Date(Date.UTC(2026, 0, 1));
const to = new Date(Date.UTC(2026, 1, 1));
await ensurePartitions(db, "usage_events", [from]);
const t0 = performance.now();
const CHUNK = 200_000;
for (let done = 0; done < ROWS; done += CHUNK) {
  const n = Math.min(CHUNK, ROWS - done);
  await db.execute(sql`
    INSERT INTO usage_events (request_id, org_id, api_key_id, model_alias, router_pool, route,
      status, prompt_tokens, completion_tokens, cost_micros, latency_ms, upstream_ms, stream,
      billing_mode, charge_micros, created_at)
    SELECT ${`req_${orgId.slice(4)}_`} || lpad(g::text, 9, '0'), ${orgId}, 'key_bench_' || (g % 7),
      'model-' || (g % 3), 'pool', '/v1/completions', 'ok', 12 + g % 50, 100 + g % 200,
      123 + g % 1000, 40, 35, false, 'prepaid', 123 + g % 1000,
      ${from.toISOString()}::timestamptz + make_interval(secs => g)
    FROM generate_series(${done + 1}::int, ${done + n}::int) AS g`);
}
console.log(
  `seeded ${ROWS.toLocaleString()} usage rows in ${((performance.now() - t0) / 1000).toFixed(1)} s (${handle.kind})`,
);

// Fresh statistics, as autovacuum would have them for a table this size: without them the planner
// takes the just-loaded partition for empty and sorts the whole org on every page (~7k rows/s).
await db.execute(sql.raw(`ANALYZE ${partitionName("usage_events", from)}`));

/** A sink that takes 64 KiB at a time and answers asynchronously (like a socket or a file). */
function slowSink(): Writable & { bytes: number } {
  const w = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _enc, cb) {
      w.bytes += chunk.length;
      setImmediate(cb);
    },
  }) as Writable & { bytes: number };
  w.bytes = 0;
  return w;
}

for (const format of ["csv", "jsonl"] as ExportFormat[]) {
  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const sink = slowSink();
  const start = performance.now();
  await writeChunks(exportChunks(db, { kind: "usage", format, orgId, from, to }), sink);
  const secs = (performance.now() - start) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  console.log(
    `export ${format.padEnd(5)} ${ROWS.toLocaleString()} rows in ${secs.toFixed(1)} s: ` +
      `${Math.round(ROWS / secs).toLocaleString()} rows/s, ${mb(sink.bytes)} written, ` +
      `RSS ${mb(baseline)} before, peak ${mb(peak)} (+${mb(peak - baseline)}; ` +
      `the file is ${(sink.bytes / Math.max(1, peak - baseline)).toFixed(0)}× the growth)`,
  );
}
await db.execute(sql`DELETE FROM usage_events WHERE org_id = ${orgId}`);
await db.execute(sql`DELETE FROM organizations WHERE id = ${orgId}`);
await handle.close();
