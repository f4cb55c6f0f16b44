import { existsSync } from "node:fs";
import path from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { DomainError } from "../domain-errors.js";
import { parseEnv } from "../env.js";
import { ResourceNotFoundError, RuleViolationError } from "../services/portal/errors.js";
import type { CommandGroup, CommandInput, CommandSpec, OptionSpec } from "./command.js";
import { UsageError } from "./command.js";
import { commandGroups } from "./commands/index.js";
import { CliContext } from "./context.js";

// `portal`: operate a Portal installation from a shell, straight against its database, through
// the same service functions (and audit rows, and cache invalidation) as the admin API.
// Exit codes: 0 ok, 1 the command failed, 2 bad usage.

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: "boolean", description: "print machine-readable JSON on stdout" },
  as: {
    type: "string",
    value: "EMAIL",
    description: "act as this operator (default: the oldest active operator)",
  },
  help: { type: "boolean", short: "h", description: "show help" },
};

const ENVIRONMENT_HELP = `Environment (the gateway's own variables, see README "Configuration"):
  DATABASE_URL           Postgres to manage; unset = the embedded PGlite database in
                         PORTAL_DATA_DIR/pglite (default .data/pglite). PGlite allows one
                         process at a time: stop \`npm start\` before using the CLI on it.
  PORTAL_DATA_DIR        embedded database and generated encryption key (default .data)
  PORTAL_ENCRYPTION_KEY  seals router keys (targets add/update); else the data dir's key
  REDIS_URL              when set, every change is published on the gateways' invalidation
                         channel and takes effect on every running gateway within a second
                         (the CLI refuses to change anything if Redis is unreachable).
                         Unset: running gateways see changes when their caches expire
                         (API keys within ~10 s, models, pools and targets within ~5 s).

Every change is written with its audit_log row in one transaction (actor: the operator,
request id cli_…), exactly like the admin API.

Exit codes: 0 success, 1 the command failed, 2 usage error (bad command, flag or value).`;

function optionLines(options: Record<string, OptionSpec>): string[] {
  const entries = Object.entries(options).map(([name, o]) => {
    const left = `${o.short ? `-${o.short}, ` : ""}--${name}${o.value ? ` ${o.value}` : ""}`;
    return [left, `${o.description}${o.required ? " (required)" : ""}`] as const;
  });
  const width = Math.max(0, ...entries.map(([l]) => l.length));
  return entries.map(([l, r]) => `  ${l.padEnd(width)}  ${r}`);
}

function globalHelp(): string {
  const width = Math.max(...commandGroups.map((g) => g.name.length));
  return [
    "portal — manage a Portal installation: API keys, models, pools, targets, usage, migrations.",
    "",
    "Usage: portal <command> [subcommand] [arguments] [options]",
    "       npm run portal -- <command> …   (from the repository root)",
    "",
    "Commands:",
    ...commandGroups.map((g) => `  ${g.name.padEnd(width)}  ${g.summary}`),
    "",
    "Global options:",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    "Run 'portal <command> --help' for a command's subcommands and options.",
    "",
    ENVIRONMENT_HELP,
  ].join("\n");
}

function usageLine(group: CommandGroup, spec: CommandSpec): string {
  const name = spec.name ? `${group.name} ${spec.name}` : group.name;
  const args = (spec.args ?? []).join(" ");
  const required = Object.entries(spec.options ?? {})
    .filter(([, o]) => o.required)
    .map(([n, o]) => `--${n}${o.value ? ` ${o.value}` : ""}`)
    .join(" ");
  return ["portal", name, args, required, "[options]"].filter(Boolean).join(" ");
}

function groupHelp(group: CommandGroup): string {
  const single = group.commands.length === 1 && group.commands[0]?.name === "";
  if (single && group.commands[0]) return commandHelp(group, group.commands[0]);
  const width = Math.max(...group.commands.map((c) => c.name.length));
  return [
    `portal ${group.name} — ${group.summary}`,
    "",
    `Usage: portal ${group.name} <subcommand> [arguments] [options]`,
    "",
    "Subcommands:",
    ...group.commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    `Run 'portal ${group.name} <subcommand> --help' for its options.`,
  ].join("\n");
}

function commandHelp(group: CommandGroup, spec: CommandSpec): string {
  const lines = [
    `portal ${spec.name ? `${group.name} ${spec.name}` : group.name} — ${spec.summary}`,
    "",
    `Usage: ${usageLine(group, spec)}`,
  ];
  if (spec.details) lines.push("", spec.details);
  if (spec.options && Object.keys(spec.options).length > 0) {
    lines.push("", "Options:", ...optionLines(spec.options));
  }
  lines.push("", "Global options:", ...optionLines(GLOBAL_OPTIONS));
  if (spec.mutates) {
    lines.push(
      "",
      "Audited in audit_log. With REDIS_URL running gateways are told at once; without it they",
      "pick the change up when their caches expire (keys ~10 s, models/pools/targets ~5 s).",
    );
  }
  return lines.join("\n");
}

/** Where the command line points: a group and a command, or a help request. */
type Resolved =
  | { kind: "help"; text: string }
  | { kind: "run"; group: CommandGroup; spec: CommandSpec; rest: string[] };

function resolve(argv: string[]): Resolved {
  const firstPositional = argv.findIndex((a) => !a.startsWith("-"));
  const wantsHelp = (args: string[]) => args.includes("--help") || args.includes("-h");
  if (firstPositional === -1) {
    if (wantsHelp(argv)) return { kind: "help", text: globalHelp() };
    throw new UsageError(
      argv.length === 0 ? "no command given" : `expected a command before '${argv[0]}'`,
    );
  }
  const groupName = argv[firstPositional] as string;
  if (groupName === "help") return { kind: "help", text: globalHelp() };
  const group = commandGroups.find((g) => g.name === groupName);
  if (!group) throw new UsageError(`unknown command '${groupName}'`);
  const before = argv.slice(0, firstPositional);
  const after = argv.slice(firstPositional + 1);
  const single = group.commands.find((c) => c.name === "");
  if (single) return { kind: "run", group, spec: single, rest: [...before, ...after] };
  const subIndex = after.findIndex((a) => !a.startsWith("-"));
  if (subIndex === -1) {
    if (wantsHelp(after) || wantsHelp(before)) return { kind: "help", text: groupHelp(group) };
    throw new UsageError(`'portal ${group.name}' needs a subcommand\n\n${groupHelp(group)}`);
  }
  const subName = after[subIndex] as string;
  const spec = group.commands.find((c) => c.name === subName);
  if (!spec) {
    throw new UsageError(
      `unknown subcommand '${group.name} ${subName}' (one of: ${group.commands.map((c) => c.name).join(", ")})`,
    );
  }
  return {
    kind: "run",
    group,
    spec,
    rest: [...before, ...after.slice(0, subIndex), ...after.slice(subIndex + 1)],
  };
}

function parseInput(group: CommandGroup, spec: CommandSpec, rest: string[]): CommandInput {
  const all = { ...GLOBAL_OPTIONS, ...spec.options };
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const [name, o] of Object.entries(all)) {
    options[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  }
  let parsed: CommandInput;
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options,
      strict: true,
      allowPositionals: true,
    });
    parsed = { values: values as CommandInput["values"], positionals };
  } catch (err) {
    // parseArgs' messages are precise ("Unknown option '--nmae'"); drop its trailing hints.
    throw new UsageError((err as Error).message.split(". To specify")[0] ?? String(err));
  }
  if (parsed.values.help === true) return parsed;
  const expected = spec.args ?? [];
  if (parsed.positionals.length < expected.length) {
    throw new UsageError(`missing ${expected.slice(parsed.positionals.length).join(" ")}`);
  }
  if (parsed.positionals.length > expected.length) {
    throw new UsageError(
      `unexpected argument '${parsed.positionals[expected.length]}' for 'portal ${[group.name, spec.name].filter(Boolean).join(" ")}'`,
    );
  }
  for (const [name, o] of Object.entries(spec.options ?? {})) {
    if (o.required && parsed.values[name] === undefined)
      throw new UsageError(`--${name} is required`);
  }
  return parsed;
}

/** The innermost error with a SQLSTATE code (drizzle wraps driver errors). */
function sqlState(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function failureMessage(err: unknown): string {
  const state = sqlState(err);
  if (state === "42P01" || state === "42704") {
    return "the database has no Portal schema yet: run 'portal migrate' (or start the gateway once)";
  }
  const message = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${message}${cause}`;
}

/** Run one command line; returns the exit code. Output goes to the given writers. */
async function runCli(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  let resolved: Resolved | undefined;
  let input: CommandInput;
  try {
    resolved = resolve(argv);
    if (resolved.kind === "help") {
      out(resolved.text);
      return 0;
    }
    input = parseInput(resolved.group, resolved.spec, resolved.rest);
    if (input.values.help === true) {
      out(commandHelp(resolved.group, resolved.spec));
      return 0;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      const label =
        resolved?.kind === "run"
          ? `portal ${[resolved.group.name, resolved.spec.name].filter(Boolean).join(" ")}`
          : "portal";
      err(`portal: ${e.message}\nRun '${label} --help' for usage.`);
      return 2;
    }
    throw e;
  }
  const { group, spec } = resolved;
  const parsedEnv = parseEnv(env);
  if (!parsedEnv.ok) {
    err(`portal: invalid environment:\n${parsedEnv.errors.map((e) => `  ${e}`).join("\n")}`);
    return 2;
  }
  const pglitePid = path.join(
    path.resolve(parsedEnv.env.PORTAL_DATA_DIR),
    "pglite",
    "postmaster.pid",
  );
  if (!parsedEnv.env.DATABASE_URL && existsSync(pglitePid)) {
    err(
      `portal: the embedded database in ${path.dirname(pglitePid)} is open in another process (a running gateway?). PGlite allows one process at a time: stop it first, or point DATABASE_URL at Postgres. If nothing is running (the gateway was killed), remove ${pglitePid}.`,
    );
    return 1;
  }
  const ctx = new CliContext(
    parsedEnv.env,
    typeof input.values.as === "string" ? input.values.as : undefined,
  );
  const label = `portal ${[group.name, spec.name].filter(Boolean).join(" ")}`;
  try {
    if (spec.mutates) await ctx.prepareInvalidation();
    const result = await spec.run(ctx, input);
    out(input.values.json === true ? JSON.stringify(result.json, jsonReplacer, 2) : result.text);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`portal: ${e.message}\nRun '${label} --help' for usage.`);
      return 2;
    }
    // An unknown id or a value the domain refuses is the caller's input too: exit 2, as for an
    // unknown org (docs/cli.md), not 1 (a command that failed).
    if (e instanceof ResourceNotFoundError || e instanceof RuleViolationError) {
      err(`portal: ${e.message}`);
      return 2;
    }
    err(`portal: ${e instanceof DomainError ? e.message : failureMessage(e)}`);
    return 1;
  } finally {
    await ctx.close().catch(() => {});
  }
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

// The process entry (`npm run portal`, the `portal` bin via bin.mjs, the e2e tests).
const code = await runCli(
  process.argv.slice(2),
  process.env,
  (s) => process.stdout.write(`${s}\n`),
  (s) => process.stderr.write(`${s}\n`),
).catch((e: unknown) => {
  process.stderr.write(`portal: ${failureMessage(e)}\n`);
  return 1;
});
// Exit explicitly: a driver's idle timer must not keep a finished command alive.
process.exit(code);
