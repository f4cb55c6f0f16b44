import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type Database, rowsOf, type SQL, sql } from "@portal/db";

export type ExportFormat = "csv" | "jsonl";
export type ExportKind = "usage" | "ledger";

export interface ExportInput {
  kind: ExportKind;
  format: ExportFormat;
  /** One org (portal, CLI), or every org (operators): then rows come org by org. */
  orgId?: string | undefined;
  from: Date;
  to: Date;
  /** Rows per keyset page (default 5,000): the most rows held in memory at once. */
  pageSize?: number;
}

const USAGE_COLUMNS = [
  "request_id",
  "org_id",
  "api_key_id",
  "model_alias",
  "router_pool",
  "route",
  "status",
  "error_code",
  "prompt_tokens",
  "completion_tokens",
  "cost_micros",
  "charge_micros",
  "billing_mode",
  "latency_ms",
  "upstream_ms",
  "stream",
  "created_at",
] as const;

const LEDGER_COLUMNS = [
  "id",
  "org_id",
  "kind",
  "amount_micros",
  "reference",
  "period_start",
  "created_at",
] as const;

type Row = Record<string, string | number | boolean | null>;

// Timestamps leave Postgres as UTC ISO text with microseconds: exact in the file, and exact as
// the keyset cursor (a JS Date would round to milliseconds and skip or repeat rows). The text is
// selected AS created_at, so ORDER BY must name the table's column: a bare `created_at` there
// means the output text, which no index serves (a full sort of the org's month on every page).
const iso = (col: string) =>
  sql.raw(`to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);

/** What one export kind reads: its table, its keyset tie-breaker and the columns it selects. */
interface ExportSource {
  table: "usage_events" | "billing_ledger";
  tie: "request_id" | "id";
  columns: readonly string[];
  select: SQL;
}

const SOURCES: Record<ExportKind, ExportSource> = {
  usage: {
    table: "usage_events",
    tie: "request_id",
    columns: USAGE_COLUMNS,
    select: sql`request_id, org_id, api_key_id, model_alias, router_pool, route,
      status::text AS status, error_code, prompt_tokens, completion_tokens,
      cost_micros::text AS cost_micros, charge_micros::text AS charge_micros,
      billing_mode::text AS billing_mode, latency_ms, upstream_ms, stream,
      ${iso("created_at")} AS created_at`,
  },
  ledger: {
    table: "billing_ledger",
    tie: "id",
    columns: LEDGER_COLUMNS,
    select: sql`id, org_id, kind::text AS kind, amount_micros::text AS amount_micros, reference,
      ${iso("period_start")} AS period_start, ${iso("created_at")} AS created_at`,
  },
};

/** One keyset page of an org's rows in (created_at, tie) order, served by the org index. */
async function keysetPage(
  db: Database,
  source: ExportSource,
  orgId: string,
  input: ExportInput,
  after: { at: string; id: string } | null,
  limit: number,
): Promise<Row[]> {
  // Identifiers from the constant table above, never from input.
  const table = sql.raw(source.table);
  const tie = sql.raw(source.tie);
  return rowsOf<Row>(
    await db.execute(sql`
      SELECT ${source.select}
      FROM ${table}
      WHERE org_id = ${orgId} AND created_at >= ${input.from.toISOString()}::timestamptz
        AND created_at < ${input.to.toISOString()}::timestamptz
        ${after ? sql`AND (created_at, ${tie}) > (${after.at}::timestamptz, ${after.id})` : sql``}
      ORDER BY ${table}.created_at, ${tie} LIMIT ${limit}`),
  );
}

/** Org ids in id order, a page at a time (the all-orgs export never loads the whole list). */
async function* orgIds(db: Database): AsyncGenerator<string> {
  let after = "";
  for (;;) {
    const page = rowsOf<{ id: string }>(
      await db.execute(sql`SELECT id FROM organizations WHERE id > ${after} ORDER BY id LIMIT 500`),
    );
    for (const r of page) yield r.id;
    const last = page.at(-1);
    if (!last || page.length < 500) return;
    after = last.id;
  }
}

/**
 * RFC 4180 field: quoted when it holds a comma, quote or line break. Text a spreadsheet would run
 * as a formula (a customer's key named `=HYPERLINK(…)`, opened by an operator in Excel or Sheets)
 * is prefixed with `'`, as OWASP advises for CSV injection; numbers, negative ones included, are
 * left as they are.
 */
export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return "";
  let s = String(v);
  if (typeof v === "string" && FORMULA_START.test(s) && !NUMERIC.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

const FORMULA_START = /^[=+\-@\t\r]/;
const NUMERIC = /^[+-]?\d+(\.\d+)?$/;

function encodeRows(rows: Row[], columns: readonly string[], format: ExportFormat): string {
  if (format === "jsonl") return rows.map((r) => `${JSON.stringify(r)}\n`).join("");
  return rows.map((r) => `${columns.map((c) => csvField(r[c])).join(",")}\r\n`).join("");
}

/**
 * The export as text chunks (one per keyset page), pulled lazily: the next page is read only
 * when the consumer asks for more, so memory stays at one page however many rows there are, and
 * a slow HTTP client or disk slows the database reads down instead of filling a buffer.
 * Keyset pagination on (created_at, id) within each org — no OFFSET, no long-lived cursor or
 * transaction holding a connection — over the (org_id, created_at, id) indexes.
 */
export async function* exportChunks(db: Database, input: ExportInput): AsyncGenerator<string> {
  const source = SOURCES[input.kind];
  const { columns } = source;
  const limit = input.pageSize ?? 5_000;
  // The CSV header goes out with the first page (or alone at the end of an empty export), not
  // before any read: a response answers only once the database has (see exportResponse).
  let header = input.format === "csv" ? `${columns.join(",")}\r\n` : "";
  const orgs = input.orgId ? [input.orgId] : orgIds(db);
  for await (const orgId of orgs) {
    let after: { at: string; id: string } | null = null;
    for (;;) {
      const rows = await keysetPage(db, source, orgId, input, after, limit);
      if (rows.length > 0) {
        yield header + encodeRows(rows, columns, input.format);
        header = "";
      }
      const last = rows.at(-1);
      if (!last || rows.length < limit) break;
      after = { at: String(last.created_at), id: String(last[source.tie]) };
    }
  }
  if (header) yield header;
}

/** Write chunks to any Node Writable (file, stdout, HTTP response) honouring backpressure. */
export async function writeChunks(chunks: AsyncIterable<string>, out: Writable): Promise<void> {
  await pipeline(Readable.from(chunks), out, { end: false });
}

/**
 * A web ReadableStream over the chunks for an HTTP response: `pull` reads the next page only when
 * the response has room (backpressure); a client that goes away cancels the generator.
 */
export function toWebStream(chunks: AsyncIterable<string>): ReadableStream<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await it.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      async cancel() {
        await it.return?.(undefined);
      },
    },
    { highWaterMark: 1 },
  );
}

/**
 * `usage-<org|all>-<first day>-<last day>.csv` for Content-Disposition and CLI defaults; the last
 * day is the inclusive one the caller asked for (`input.to` is the exclusive bound after it).
 */
export function exportFileName(input: ExportInput): string {
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const last = new Date(input.to.getTime() - 86_400_000);
  return `${input.kind}-${input.orgId ?? "all"}-${day(input.from)}-${day(last)}.${input.format}`;
}

export interface StatementLine {
  requests: number;
  failed_requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_micros: string;
}

export interface MonthlyStatement {
  org_id: string;
  org_name: string;
  month: string;
  from: string;
  to: string;
  currency: "USD";
  usage: {
    total: StatementLine;
    by_model: Array<StatementLine & { model: string }>;
    by_key: Array<StatementLine & { api_key_id: string; key_name: string | null }>;
  };
  ledger: {
    opening_balance_micros: string;
    /** Sum per entry kind within the month (usage charges by the hour they cover). */
    by_kind: Record<string, string>;
    /** Charges of usage rows up to the month's end not rolled into the ledger yet (open hour). */
    unrolled_charges_micros: string;
    closing_balance_micros: string;
  };
}

/** [first day of `month`, first day of the next) in UTC; `month` is `YYYY-MM`. */
export function monthRange(month: string): { from: Date; to: Date } {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  const year = Number(m?.[1]);
  const mon = Number(m?.[2]);
  if (!m || mon < 1 || mon > 12) throw new RangeError("month must be YYYY-MM");
  return { from: new Date(Date.UTC(year, mon - 1, 1)), to: new Date(Date.UTC(year, mon, 1)) };
}

/**
 * One org's statement for a UTC month: usage totals by model and by key (from usage_daily, so no
 * scan of raw events), and the ledger for the month with opening and closing balances. Returns
 * null when the org does not exist.
 */
export async function monthlyStatement(
  db: Database,
  input: { orgId: string; month: string },
): Promise<MonthlyStatement | null> {
  const { from, to } = monthRange(input.month);
  const [org] = rowsOf<{ name: string }>(
    await db.execute(sql`SELECT name FROM organizations WHERE id = ${input.orgId}`),
  );
  if (!org) return null;
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const lines = rowsOf<{
    model: string;
    api_key_id: string;
    key_name: string | null;
    requests: number;
    failed_requests: number;
    prompt_tokens: string;
    completion_tokens: string;
    cost_micros: string;
  }>(
    await db.execute(sql`
      SELECT d.model_alias AS model, d.api_key_id, k.name AS key_name,
        sum(d.requests)::int AS requests, sum(d.failed_requests)::int AS failed_requests,
        sum(d.prompt_tokens)::text AS prompt_tokens,
        sum(d.completion_tokens)::text AS completion_tokens, sum(d.cost_micros)::text AS cost_micros
      FROM usage_daily d LEFT JOIN api_keys k ON k.id = d.api_key_id
      WHERE d.org_id = ${input.orgId} AND d.day >= ${day(from)} AND d.day < ${day(to)}
      GROUP BY 1, 2, 3 ORDER BY 1, 2`),
  );
  const zero = (): StatementLine => ({
    requests: 0,
    failed_requests: 0,
    prompt_tokens: 0,
    completion_tokens: 0,
    cost_micros: "0",
  });
  const add = (a: StatementLine, l: (typeof lines)[number]) => {
    a.requests += l.requests;
    a.failed_requests += l.failed_requests;
    a.prompt_tokens += Number(l.prompt_tokens);
    a.completion_tokens += Number(l.completion_tokens);
    a.cost_micros = (BigInt(a.cost_micros) + BigInt(l.cost_micros)).toString();
  };
  const total = zero();
  const byModel = new Map<string, StatementLine & { model: string }>();
  const byKey = new Map<string, StatementLine & { api_key_id: string; key_name: string | null }>();
  for (const l of lines) {
    add(total, l);
    const m = byModel.get(l.model) ?? { model: l.model, ...zero() };
    add(m, l);
    byModel.set(l.model, m);
    const k = byKey.get(l.api_key_id) ?? {
      api_key_id: l.api_key_id,
      key_name: l.key_name,
      ...zero(),
    };
    add(k, l);
    byKey.set(l.api_key_id, k);
  }
  // A usage charge belongs to the hour it covers, not to when the rollup wrote it.
  const [ledger] = rowsOf<{ opening: string; by_kind: Record<string, string> | null }>(
    await db.execute(sql`
      SELECT
        (SELECT coalesce(sum(amount_micros), 0)::text FROM billing_ledger
          WHERE org_id = ${input.orgId}
            AND coalesce(period_start, created_at) < ${from.toISOString()}::timestamptz) AS opening,
        (SELECT json_object_agg(kind, total) FROM (
          SELECT kind::text AS kind, sum(amount_micros)::text AS total FROM billing_ledger
          WHERE org_id = ${input.orgId}
            AND coalesce(period_start, created_at) >= ${from.toISOString()}::timestamptz
            AND coalesce(period_start, created_at) < ${to.toISOString()}::timestamptz
          GROUP BY 1) k) AS by_kind`),
  );
  const [unrolled] = rowsOf<{ s: string }>(
    await db.execute(sql`
      SELECT coalesce(sum(charge_micros), 0)::text AS s FROM usage_events
      WHERE org_id = ${input.orgId} AND charge_micros > 0 AND billed_entry_id IS NULL
        AND created_at < ${to.toISOString()}::timestamptz`),
  );
  const byKind: Record<string, string> = {};
  for (const kind of ["credit_purchase", "grant", "usage_charge", "refund", "adjustment"]) {
    byKind[kind] = String(ledger?.by_kind?.[kind] ?? "0");
  }
  const opening = BigInt(ledger?.opening ?? "0");
  const moved = Object.values(byKind).reduce((s, v) => s + BigInt(v), 0n);
  const pending = BigInt(unrolled?.s ?? "0");
  return {
    org_id: input.orgId,
    org_name: org.name,
    month: input.month,
    from: from.toISOString(),
    to: to.toISOString(),
    currency: "USD",
    usage: { total, by_model: [...byModel.values()], by_key: [...byKey.values()] },
    ledger: {
      opening_balance_micros: opening.toString(),
      by_kind: byKind,
      unrolled_charges_micros: pending.toString(),
      closing_balance_micros: (opening + moved - pending).toString(),
    },
  };
}

/** The statement as CSV: one line per model, per key, and the total. */
export function statementCsv(s: MonthlyStatement): string {
  const head =
    "section,model,api_key_id,key_name,requests,failed_requests,prompt_tokens,completion_tokens,cost_micros";
  const line = (
    section: string,
    model: string,
    keyId: string,
    keyName: string | null,
    l: StatementLine,
  ) =>
    [
      section,
      model,
      keyId,
      keyName,
      l.requests,
      l.failed_requests,
      l.prompt_tokens,
      l.completion_tokens,
      l.cost_micros,
    ]
      .map(csvField)
      .join(",");
  return [
    head,
    ...s.usage.by_model.map((m) => line("model", m.model, "", null, m)),
    ...s.usage.by_key.map((k) => line("key", "", k.api_key_id, k.key_name, k)),
    line("total", "", "", null, s.usage.total),
    "",
  ].join("\r\n");
}
