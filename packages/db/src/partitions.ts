import { sql } from "drizzle-orm";
import type { Database } from "./client.js";
import { rowsOf } from "./rows.js";

/**
 * Time partitioning of the append-heavy tables (migration `0001_partition_usage`): usage_events
 * by UTC month (kept: billing history), request_logs by UTC day (short retention, dropped whole).
 * Partitions are named `<table>_pYYYYMM` / `<table>_pYYYYMMDD` and created by the SQL function
 * `portal_ensure_partition`, which serializes creators with an advisory lock.
 */
export const PARTITIONED_TABLES = { usage_events: "month", request_logs: "day" } as const;
export type PartitionedTable = keyof typeof PARTITIONED_TABLES;
export type PartitionUnit = (typeof PARTITIONED_TABLES)[PartitionedTable];

/** Start (UTC) of the partition holding `at`. */
export function partitionStart(unit: PartitionUnit, at: Date): Date {
  return unit === "month"
    ? new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1))
    : new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}

/** Exclusive end (UTC) of the partition that starts at `start`. */
export function partitionEnd(unit: PartitionUnit, start: Date): Date {
  return unit === "month"
    ? new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1))
    : new Date(start.getTime() + 86_400_000);
}

/** The partition name for `at` (matches the SQL function's naming). */
export function partitionName(table: PartitionedTable, at: Date): string {
  const unit = PARTITIONED_TABLES[table];
  const iso = partitionStart(unit, at).toISOString();
  const suffix =
    unit === "month" ? iso.slice(0, 7).replace("-", "") : iso.slice(0, 10).replaceAll("-", "");
  return `${table}_p${suffix}`;
}

/** Create (if missing) the partition of `table` holding each date; returns their names. */
export async function ensurePartitions(
  db: Database,
  table: PartitionedTable,
  dates: Iterable<Date>,
): Promise<string[]> {
  const unit = PARTITIONED_TABLES[table];
  const starts = new Map<string, Date>();
  for (const d of dates) starts.set(partitionName(table, d), partitionStart(unit, d));
  const names: string[] = [];
  for (const start of starts.values()) {
    const result = await db.execute(
      sql`SELECT portal_ensure_partition(${table}, ${unit}, ${start.toISOString()}::timestamptz) AS name`,
    );
    const name = rowsOf<{ name: string }>(result)[0]?.name;
    if (name) names.push(name);
  }
  return names;
}

const known = new WeakMap<Database, Set<string>>();

/**
 * {@link ensurePartitions} behind a per-database cache of partitions known to exist, so a warm
 * writer issues no DDL round trip. Call {@link forgetPartitions} when an insert still finds no
 * partition (another instance dropped an expired one).
 */
export async function ensurePartitionsCached(
  db: Database,
  table: PartitionedTable,
  dates: Iterable<Date>,
): Promise<void> {
  let set = known.get(db);
  if (!set) {
    set = new Set();
    known.set(db, set);
  }
  const missing = new Map<string, Date>();
  for (const d of dates) {
    const name = partitionName(table, d);
    if (!set.has(name) && !missing.has(name)) missing.set(name, d);
  }
  if (missing.size === 0) return;
  for (const name of await ensurePartitions(db, table, missing.values())) set.add(name);
}

/** Drop the partition cache of a database (next insert re-checks). */
export function forgetPartitions(db: Database): void {
  known.delete(db);
}

/** True for Postgres' "no partition of relation … found for row" (SQLSTATE 23514). */
export function isMissingPartitionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | null;
  if (!e) return false;
  if (typeof e.message === "string" && e.message.includes("no partition of relation")) return true;
  return e.cause !== undefined && e.cause !== err && isMissingPartitionError(e.cause);
}

export interface PartitionInfo {
  name: string;
  start: Date;
  end: Date;
}

/** The partitions of `table` that follow our naming, oldest first. */
export async function listPartitions(
  db: Database,
  table: PartitionedTable,
): Promise<PartitionInfo[]> {
  const unit = PARTITIONED_TABLES[table];
  const result = await db.execute(sql`
    SELECT c.relname AS name FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = to_regclass(${table})`);
  const pattern = unit === "month" ? /_p(\d{4})(\d{2})$/ : /_p(\d{4})(\d{2})(\d{2})$/;
  const out: PartitionInfo[] = [];
  for (const { name } of rowsOf<{ name: string }>(result)) {
    const m = pattern.exec(name);
    if (!m || !name.startsWith(`${table}_p`)) continue;
    const start = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, m[3] ? Number(m[3]) : 1));
    out.push({ name, start, end: partitionEnd(unit, start) });
  }
  return out.sort((a, b) => a.start.getTime() - b.start.getTime());
}

/** Drop every partition of `table` that ends at or before `cutoff`; returns the dropped names. */
export async function dropPartitionsBefore(
  db: Database,
  table: PartitionedTable,
  cutoff: Date,
): Promise<string[]> {
  const dropped: string[] = [];
  for (const p of await listPartitions(db, table)) {
    if (p.end.getTime() > cutoff.getTime()) continue;
    await db.execute(sql.raw(`DROP TABLE IF EXISTS "${p.name.replaceAll('"', "")}"`));
    dropped.push(p.name);
  }
  return dropped;
}

/** Partitions kept ready ahead of time: this month + 3 (usage_events), today + 7 (request_logs). */
export const PARTITIONS_AHEAD = { usage_events: 3, request_logs: 7 } as const;

/** The dates whose partitions should exist now: the current period and the ones ahead. */
export function upcomingPeriods(table: PartitionedTable, now: Date): Date[] {
  const unit = PARTITIONED_TABLES[table];
  const out: Date[] = [];
  let at = partitionStart(unit, now);
  for (let i = 0; i <= PARTITIONS_AHEAD[table]; i++) {
    out.push(at);
    at = partitionEnd(unit, at);
  }
  return out;
}

/** Create the current and upcoming partitions of both tables (idempotent; run after migrating). */
export async function ensureUpcomingPartitions(db: Database, now = new Date()): Promise<string[]> {
  const names: string[] = [];
  for (const table of Object.keys(PARTITIONED_TABLES) as PartitionedTable[]) {
    names.push(...(await ensurePartitions(db, table, upcomingPeriods(table, now))));
  }
  return names;
}
