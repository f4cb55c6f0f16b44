import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

// Private Redis and Postgres instances for fault tests: own processes on ephemeral loopback
// ports in temp dirs, so tests can kill and restart them without touching the machine's shared
// services. A missing binary is an error (the fault tests fail, they never skip).

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A free loopback TCP port (bound and released; the caller binds it right away). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The first of `span` consecutive loopback ports a child process binds at fixed numbers (the
 * embedded routers), picked at random below Linux's ephemeral range (32768 and up): no outgoing
 * connection of a test running alongside can hold one there, as it can hold a port freePort()
 * returned before the child binds it.
 */
export function portBlock(span = 8): number {
  return 10_000 + Math.floor(Math.random() * (32_000 - 10_000 - span));
}

async function which(bin: string): Promise<string> {
  try {
    const { stdout } = await run("sh", ["-c", `command -v ${bin}`]);
    return stdout.trim();
  } catch {
    throw new Error(
      `${bin} not found on PATH: the fault tests need it (install it; they never skip)`,
    );
  }
}

/**
 * redis-server on a private port. AOF with `appendfsync always` in its temp dir: a restart keeps
 * every acknowledged XADD, as the README requires of production Redis (it holds the usage queue).
 */
export class PrivateRedis {
  private proc: ChildProcess | null = null;
  private constructor(
    private readonly bin: string,
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(): Promise<PrivateRedis> {
    const bin = await which("redis-server");
    const r = new PrivateRedis(
      bin,
      await freePort(),
      mkdtempSync(path.join(tmpdir(), "portal-redis-")),
    );
    await r.up();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  /** Start (or restart) the server and wait until it answers. */
  async up(): Promise<void> {
    const proc = spawn(
      this.bin,
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--dir",
        this.dir,
      ],
      { stdio: "ignore" },
    );
    this.proc = proc;
    for (let i = 0; i < 100; i++) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited ${proc.exitCode}`);
      try {
        const { stdout } = await run("redis-cli", ["-p", String(this.port), "ping"]);
        if (stdout.trim() === "PONG") return;
      } catch {
        // not up yet
      }
      await sleep(50);
    }
    throw new Error("redis-server did not answer within 5 s");
  }

  /** SIGKILL (a crash) and wait for the exit. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGKILL");
    await exited;
    this.proc = null;
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A private Postgres cluster (initdb + pg_ctl) in a temp dir; as user `postgres` when root. */
export class PrivatePostgres {
  private constructor(
    private readonly binDir: string,
    readonly port: number,
    readonly dir: string,
    private readonly asPostgres: boolean,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const binDir = findPostgresBin();
    const asPostgres = process.getuid?.() === 0;
    const dir = mkdtempSync(path.join(tmpdir(), "portal-pg-"));
    if (asPostgres) {
      const { stdout } = await run("id", ["-u", "postgres"]);
      const { stdout: gid } = await run("id", ["-g", "postgres"]);
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    const pg = new PrivatePostgres(binDir, await freePort(), dir, asPostgres);
    await pg.exec("initdb", [
      "-D",
      path.join(dir, "data"),
      "-A",
      "trust",
      "-U",
      "postgres",
      "--no-sync",
    ]);
    await pg.up();
    return pg;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async up(): Promise<void> {
    await this.exec("pg_ctl", [
      "-D",
      path.join(this.dir, "data"),
      "-l",
      path.join(this.dir, "log"),
      "-w",
      "-t",
      "30",
      "-o",
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      "start",
    ]);
  }

  /** Stop: `fast` (clean, connections cut) or `immediate` (a crash; recovery at next start). */
  async down(mode: "fast" | "immediate" = "fast"): Promise<void> {
    await this.exec("pg_ctl", ["-D", path.join(this.dir, "data"), "-m", mode, "-w", "stop"]);
  }

  async destroy(): Promise<void> {
    await this.down("immediate").catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async exec(tool: string, args: string[]): Promise<void> {
    const bin = path.join(this.binDir, tool);
    if (this.asPostgres) await run("runuser", ["-u", "postgres", "--", bin, ...args]);
    else await run(bin, args);
  }
}

function findPostgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const v = versions[0];
  if (v === undefined) {
    throw new Error(
      "no /usr/lib/postgresql/*/bin/initdb: the fault tests need a Postgres server install",
    );
  }
  return path.join(root, v, "bin");
}
