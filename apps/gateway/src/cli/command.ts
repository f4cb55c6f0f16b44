import type { z } from "zod";
import type { CliContext } from "./context.js";

/**
 * The shape of a `portal` command. A command group (`keys`, `models`, …) is one file under
 * `commands/` exporting a {@link CommandGroup}; `commands/index.ts` lists the groups.
 */

/** One flag of a command; every flag is `--kebab-case`, parsed by node:util parseArgs. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Shown in --help, e.g. `ISO` for `--expires-at ISO`. */
  value?: string;
  description: string;
  required?: boolean;
}

/** Parsed flags and positionals, as parseArgs returns them. */
export interface CommandInput {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** What a command prints: `json` with --json, `text` otherwise (both on stdout). */
export interface CommandResult {
  json: unknown;
  text: string;
}

export interface CommandSpec {
  /** Subcommand name (`create` in `portal keys create`); "" for a group that is one command. */
  name: string;
  summary: string;
  /** Positional arguments, in order, e.g. `["KEY_ID"]`; all required. */
  args?: string[];
  options?: Record<string, OptionSpec>;
  /** Extra paragraphs for --help (what it changes, caveats). */
  details?: string;
  /** Changes state: the CLI connects the invalidation bus before running it. */
  mutates?: boolean;
  run(ctx: CliContext, input: CommandInput): Promise<CommandResult>;
}

export interface CommandGroup {
  name: string;
  summary: string;
  commands: CommandSpec[];
}

/** Bad input: printed without a stack, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A string flag's value (required flags are checked before `run`). */
export function str(input: CommandInput, name: string): string | undefined {
  const v = input.values[name];
  return typeof v === "string" ? v : undefined;
}

/** A required string flag (parse-time check, for flags that are required only sometimes). */
export function requireStr(input: CommandInput, name: string): string {
  const v = str(input, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

/** An integer flag; `null` when the value is the word `none` and `nullable` (clears a limit). */
export function int(input: CommandInput, name: string): number | undefined {
  const v = str(input, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`--${name} must be an integer, got '${v}'`);
  return Number(v);
}

/** An integer flag that accepts `none` to clear the value. */
export function intOrNone(input: CommandInput, name: string): number | null | undefined {
  if (str(input, name)?.trim() === "none") return null;
  return int(input, name);
}

/** A boolean flag. */
export function flag(input: CommandInput, name: string): boolean {
  return input.values[name] === true;
}

/** The first positional argument (its presence is checked before `run`). */
export function arg(input: CommandInput, index = 0): string {
  const v = input.positionals[index];
  if (v === undefined) throw new UsageError("missing argument");
  return v;
}

/**
 * Validate flags with the same zod contract the HTTP API uses, so the CLI and the admin API
 * accept exactly the same input. Issues name the flag (`context_length` → `--context-length`).
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => {
    const field = i.path.map(String).join(".");
    return field ? `--${field.replace(/_/g, "-")}: ${i.message}` : i.message;
  });
  throw new UsageError(lines.join("\n"));
}

/** Drop undefined members (the contracts are strict objects with optional fields). */
export function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A plain-text table: one header line, then one line per row, columns padded. */
export function table(list: readonly object[], columns: string[]): string {
  if (list.length === 0) return "(none)";
  const rows = list as ReadonlyArray<Record<string, unknown>>;
  const cell = (v: unknown) => (v === null || v === undefined ? "-" : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [
    line(columns.map((c) => c.toUpperCase())),
    ...rows.map((r) => line(columns.map((c) => cell(r[c])))),
  ].join("\n");
}
