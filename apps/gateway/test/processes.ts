import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

// Spawning the real entries (gateway, router, miner) as separate processes for end-to-end tests.

export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

export interface Proc {
  name: string;
  proc: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

const all: Proc[] = [];

/** Run `node --import tsx <entry>` with `env` added to a copy of the environment. */
export function spawnEntry(name: string, entry: string, env: Record<string, string>): Proc {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  // Each process gets exactly the services the test gives it.
  delete childEnv.DATABASE_URL;
  delete childEnv.REDIS_URL;
  Object.assign(childEnv, { LOG_LEVEL: "warn", ...env });
  const proc = spawn(process.execPath, ["--import", "tsx", entry], {
    cwd: repoRoot,
    env: childEnv,
  });
  let out = "";
  const append = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  proc.stdout.on("data", append);
  proc.stderr.on("data", append);
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const p: Proc = {
    name,
    proc,
    output: () => out,
    exited,
    kill: async (signal = "SIGKILL") => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
  all.push(p);
  return p;
}

/** SIGKILL every process spawned here that still runs (afterAll). */
export function killAll(): void {
  for (const p of all)
    if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill("SIGKILL");
}

/** Resolve with the first match of `pattern` in the process's output (bounded). */
export async function waitForOutput(
  p: Proc,
  pattern: RegExp,
  ms = 90_000,
): Promise<RegExpExecArray> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const m = pattern.exec(p.output());
    if (m) return m;
    if (p.proc.exitCode !== null)
      throw new Error(`${p.name} exited ${p.proc.exitCode}:\n${p.output()}`);
    await sleep(50);
  }
  throw new Error(`${p.name}: no ${pattern} within ${ms} ms:\n${p.output()}`);
}

/** Poll a URL until it answers 200 (bounded). */
export async function waitForOk(url: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  let last = "";
  while (Date.now() < until) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return;
    } catch (err) {
      last = String(err);
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready within ${ms} ms (last: ${last})`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
