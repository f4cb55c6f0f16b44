// Child processes of the benchmarks (run.ts, soak.ts): each bench target announces itself with
// `READY <url> [key]` (and `ALIAS <alias>` before it) on stdout.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { externalThirdParty } from "../../../scripts/esbuild-external.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
export const children: ChildProcess[] = [];

/**
 * `BENCH_COMPILED=1` runs the bench targets as production does: bundled by esbuild (third-party
 * packages external) and started with plain `node`, without tsx's transpiler and source maps
 * resident. The bundle sits in apps/gateway/.bench-build/, the same depth below the repository
 * as dist/, so packages/db still finds migrations/.
 */
const compiled = process.env.BENCH_COMPILED === "1";
const outdir = path.join(here, "..", ".bench-build");

async function entry(script: string): Promise<string[]> {
  if (!compiled) return ["--import", "tsx", path.join(here, script)];
  mkdirSync(outdir, { recursive: true });
  const name = script.replace(/\.ts$/, "");
  // The gateway's usage-writer thread sits beside the bundle, as in dist/ (writer-host.ts).
  const thread = path.join(here, "..", "src", "services", "usage", "writer-thread.ts");
  await build({
    entryPoints: { [name]: path.join(here, script), "usage-writer": thread },
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
    plugins: [externalThirdParty],
  });
  const outfile = path.join(outdir, `${name}.mjs`);
  return [outfile];
}

/** Start a bench target; resolves once it printed READY (its words, then any ALIAS lines). */
export async function start(
  script: string,
  args: string[],
): Promise<{ proc: ChildProcess; line: string[] }> {
  // BENCH_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") go to the bench targets only.
  const flags = script === "server.ts" ? (process.env.BENCH_NODE_FLAGS?.split(" ") ?? []) : [];
  const proc = spawn(process.execPath, [...flags, ...(await entry(script)), ...args], {
    env: process.env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(proc);
  return new Promise((resolve, reject) => {
    let out = "";
    const extra: string[] = [];
    proc.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      for (const l of out.split("\n")) {
        if (l.startsWith("ALIAS ")) extra.push(l.slice(6));
        if (l.startsWith("READY ")) resolve({ proc, line: [...l.slice(6).split(" "), ...extra] });
      }
    });
    proc.on("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

/** Resident memory of a child, in MB (0 once it is gone). */
export function rssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * CPU time a process has used so far (user + system, all threads), in ms; 0 once it is gone.
 * `/proc/<pid>/stat` counts in clock ticks of 10 ms (USER_HZ is 100 on Linux).
 */
export function cpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

/** SIGTERM every child still running. */
export function stopChildren(): void {
  for (const c of children) c.kill("SIGTERM");
}
