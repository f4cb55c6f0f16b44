import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { portBlock } from "../../gateway/src/testing/private-services.js";

/** What the browser tests share: Chromium, and the product started the way `npm start` runs it. */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

/** True when Chromium is there; in CI its absence is a failure, elsewhere a loud skip. */
export function chromiumPresent(suite: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === "true") {
    throw new Error(`CI=true but Chromium is missing at ${CHROMIUM}: browser tests cannot run`);
  }
  console.warn(
    `\n!!! Chromium not found at ${CHROMIUM}: SKIPPING the ${suite}. ` +
      "Install it (apt-get install -y chromium) or set CHROMIUM_PATH.\n",
  );
  return false;
}

export interface RunningProduct {
  base: string;
  browser: Browser;
  /** Stop the browser and the gateway (Ctrl-C, as a user would), remove the data dir. */
  stop(): Promise<void>;
}

/**
 * Build the web app if it is missing or stale (what `npm start` does first), start the gateway
 * with its embedded routers and demo miners on the embedded database in a fresh data dir, wait
 * for its banner, and launch headless Chromium.
 */
export async function startProduct(opts: {
  operatorEmail: string;
  operatorPassword: string;
  env?: Record<string, string>;
}): Promise<RunningProduct> {
  const built = spawnSync(process.execPath, ["apps/portal/scripts/ensure-built.mjs"], {
    cwd: repoRoot,
    stdio: "inherit",
  });
  if (built.status !== 0) throw new Error("building the portal web app failed");
  const dataDir = mkdtempSync(path.join(tmpdir(), "portal-browser-"));
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL; // the embedded default, as `npm start` runs it
  delete env.REDIS_URL;
  Object.assign(env, {
    PORT: "0",
    PORTAL_DATA_DIR: dataDir,
    PORTAL_BOOTSTRAP_EMAIL: opts.operatorEmail,
    PORTAL_BOOTSTRAP_PASSWORD: opts.operatorPassword,
    EMBEDDED_ROUTER_BASE_PORT: String(portBlock()),
    DEMO_TOKEN_DELAY_MS: "0",
    LOG_LEVEL: "warn",
    ...opts.env,
  });
  const proc = spawn(process.execPath, ["--import", "tsx", "apps/gateway/src/main.ts"], {
    cwd: repoRoot,
    env,
  });
  const stopGateway = async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((resolve) => proc.on("exit", resolve));
      proc.kill("SIGINT");
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const base = await baseUrlOf(proc);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    return {
      base,
      browser,
      stop: async () => {
        await browser.close();
        await stopGateway();
      },
    };
  } catch (err) {
    await stopGateway();
    throw err;
  }
}

/** The URL in the gateway's start-up banner (it prints a curl line once it is ready). */
async function baseUrlOf(proc: ChildProcessWithoutNullStreams): Promise<string> {
  let out = "";
  proc.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const banner = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 90 s:\n${out}`)), 90_000);
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (/Try it:[\s\S]*curl/.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    proc.on("exit", (code) => reject(new Error(`gateway exited ${code}:\n${out}`)));
  });
  const match = /listening on (http:\/\/\S+)/.exec(banner);
  if (!match?.[1]) throw new Error(`no URL in banner:\n${banner}`);
  return match[1];
}
