import { ExportQuery, StatementQuery } from "@portal/contracts";
import type { Database } from "@portal/db";
import type { Context } from "hono";
import { ApiError } from "../../errors.js";
import { parseQuery } from "../../lib/validate.js";
import {
  type ExportInput,
  type ExportKind,
  exportChunks,
  exportFileName,
  monthlyStatement,
  statementCsv,
  toWebStream,
} from "../../services/billing/exports.js";
import type { AppEnv } from "../../types.js";

const DAY_MS = 86_400_000;
const CONTENT_TYPE = { csv: "text/csv; charset=utf-8", jsonl: "application/x-ndjson" } as const;

/** Parse `?from=YYYY-MM-DD&to=YYYY-MM-DD&format=csv|jsonl` into an export over [from, to + 1 day). */
export function parseExportQuery(
  c: Context<AppEnv>,
  kind: ExportKind,
): ExportInput & { orgIdParam?: string | undefined } {
  const q = parseQuery(c, ExportQuery);
  return {
    kind,
    format: q.format,
    from: new Date(`${q.from}T00:00:00Z`),
    to: new Date(new Date(`${q.to}T00:00:00Z`).getTime() + DAY_MS),
    orgIdParam: q.org_id,
  };
}

/**
 * Stream an export as the HTTP body. The first page is read before answering, so a failure that
 * early (database down) is an ordinary error envelope; after that, pages are pulled as the client
 * reads (backpressure) and a client that hangs up stops the reads.
 */
export async function exportResponse(db: Database, input: ExportInput): Promise<Response> {
  const chunks = exportChunks(db, input);
  const first = await chunks.next();
  async function* rest(): AsyncGenerator<string> {
    if (first.done) return;
    yield first.value;
    yield* chunks;
  }
  return new Response(toWebStream(rest()), {
    status: 200,
    headers: {
      "content-type": CONTENT_TYPE[input.format],
      "content-disposition": `attachment; filename="${exportFileName(input)}"`,
      "cache-control": "no-store",
    },
  });
}

/** `?month=YYYY-MM&format=json|csv` → the org's monthly statement (404 for an unknown org). */
export async function statementResponse(
  c: Context<AppEnv>,
  db: Database,
  orgId: string,
): Promise<Response> {
  const q = parseQuery(c, StatementQuery);
  const statement = await monthlyStatement(db, { orgId, month: q.month });
  if (!statement) throw new ApiError("not_found", "No such organization.");
  if (q.format === "json") return c.json(statement);
  return c.body(statementCsv(statement), 200, {
    "content-type": CONTENT_TYPE.csv,
    "content-disposition": `attachment; filename="statement-${orgId}-${q.month}.csv"`,
  });
}
