import { createWriteStream } from "node:fs";
import { finished } from "node:stream/promises";
import { ExportQuery, StatementQuery } from "@portal/contracts";
import {
  type ExportInput,
  type ExportKind,
  exportChunks,
  monthlyStatement,
  statementCsv,
  writeChunks,
} from "../../services/billing/exports.js";
import { reconciliationReport } from "../../services/billing/reconcile.js";
import {
  type CommandGroup,
  type CommandSpec,
  flag,
  requireStr,
  str,
  UsageError,
  validate,
} from "../command.js";
import type { CliContext } from "../context.js";

const DAY_MS = 86_400_000;

/** Stream one export into `file` (constant memory, backpressure from the file). */
export async function writeExportFile(
  ctx: CliContext,
  input: ExportInput,
  file: string,
): Promise<void> {
  const db = await ctx.db();
  const out = createWriteStream(file);
  try {
    await writeChunks(exportChunks(db, input), out);
  } finally {
    out.end();
    await finished(out);
  }
}

function rowsCommand(kind: ExportKind): CommandSpec {
  return {
    name: kind,
    summary: `stream ${kind === "usage" ? "usage events" : "ledger entries"} of one org or all orgs as CSV or JSON Lines`,
    options: {
      org: { type: "string", value: "ORG", description: "org id or slug (omit with --all-orgs)" },
      "all-orgs": { type: "boolean", description: "every org, one after the other" },
      from: { type: "string", value: "YYYY-MM-DD", description: "first UTC day", required: true },
      to: {
        type: "string",
        value: "YYYY-MM-DD",
        description: "last UTC day (inclusive)",
        required: true,
      },
      format: { type: "string", value: "csv|jsonl", description: "default csv" },
      out: { type: "string", value: "FILE", description: "file to write", required: true },
    },
    details:
      "Rows are read in keyset pages of 5,000 and written as the file takes them, so memory stays flat however many rows the period holds. Money columns are integer micro-USD.",
    async run(ctx, input) {
      const q = validate(ExportQuery, {
        from: str(input, "from"),
        to: str(input, "to"),
        ...(str(input, "format") ? { format: str(input, "format") } : {}),
      });
      const all = flag(input, "all-orgs");
      if (all === (str(input, "org") !== undefined)) {
        throw new UsageError("give exactly one of --org ORG and --all-orgs");
      }
      const orgId = all ? undefined : await ctx.resolveOrg(requireStr(input, "org"));
      const file = requireStr(input, "out");
      // The command's own summary goes to stdout, so an export there would be mixed with it.
      if (file === "-") throw new UsageError("--out must be a file path (stdout is not supported)");
      const exportInput: ExportInput = {
        kind,
        format: q.format,
        orgId,
        from: new Date(`${q.from}T00:00:00Z`),
        to: new Date(new Date(`${q.to}T00:00:00Z`).getTime() + DAY_MS),
      };
      await writeExportFile(ctx, exportInput, file);
      return {
        json: { file, kind, format: q.format, org_id: orgId ?? null, from: q.from, to: q.to },
        text: `Wrote ${kind} ${q.format} for ${orgId ?? "all orgs"}, ${q.from} … ${q.to}, to ${file}.`,
      };
    },
  };
}

/** `portal export usage|ledger|statement|reconciliation`: billing exports without the API. */
export const exportCommands: CommandGroup = {
  name: "export",
  summary:
    "billing exports: usage events, ledger entries, monthly statements, Stripe reconciliation",
  commands: [
    rowsCommand("usage"),
    rowsCommand("ledger"),
    {
      name: "statement",
      summary: "an org's monthly statement (totals by model and key, ledger, balances)",
      options: {
        org: { type: "string", value: "ORG", description: "org id or slug", required: true },
        month: { type: "string", value: "YYYY-MM", description: "UTC month", required: true },
        format: {
          type: "string",
          value: "json|csv",
          description: "text output format (default: table-free summary)",
        },
      },
      async run(ctx, input) {
        const q = validate(StatementQuery, {
          month: str(input, "month"),
          ...(str(input, "format") ? { format: str(input, "format") } : {}),
        });
        const orgId = await ctx.resolveOrg(requireStr(input, "org"));
        const statement = await monthlyStatement(await ctx.db(), { orgId, month: q.month });
        if (!statement) throw new UsageError(`no org ${orgId}`);
        const text =
          q.format === "csv" ? statementCsv(statement) : JSON.stringify(statement, null, 2);
        return { json: statement, text };
      },
    },
    {
      name: "reconciliation",
      summary: "compare our usage and ledger with what reached Stripe, hour by hour",
      options: {
        from: { type: "string", value: "YYYY-MM-DD", description: "first UTC day", required: true },
        to: {
          type: "string",
          value: "YYYY-MM-DD",
          description: "last UTC day (inclusive)",
          required: true,
        },
        org: { type: "string", value: "ORG", description: "one org (default: all)" },
      },
      async run(ctx, input) {
        const from = new Date(`${requireStr(input, "from")}T00:00:00Z`);
        const to = new Date(new Date(`${requireStr(input, "to")}T00:00:00Z`).getTime() + DAY_MS);
        if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
          throw new UsageError("--from and --to must be YYYY-MM-DD");
        }
        const org = str(input, "org");
        const orgId = org ? await ctx.resolveOrg(org) : undefined;
        const report = await reconciliationReport(await ctx.db(), { from, to, orgId });
        const bad = [...report.meter, ...report.ledger].filter((r) => r.status !== "ok");
        const text = [
          `Postpaid usage ${report.totals.usage_micros} µUSD, sent to Stripe ${report.totals.sent_micros} µUSD.`,
          `Prepaid charges ${report.totals.charged_micros} µUSD, in the ledger ${report.totals.ledger_micros} µUSD.`,
          `${report.totals.problems} problem hour(s); ${bad.length} hour(s) not fully settled.`,
          ...bad.map(
            (r) =>
              `  ${r.status.padEnd(8)} ${r.org_id} ${"model" in r ? r.model : "(prepaid)"} ${r.period_start}`,
          ),
        ].join("\n");
        return { json: report, text };
      },
    },
  ],
};
