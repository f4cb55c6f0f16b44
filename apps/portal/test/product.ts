import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Browser, chromium } from "playwright-core";
import { portBlock } from "../../gateway/src/testing/private-services.js";
import { repoRoot, spawnEntry, waitForOutput } from "../../gateway/test/processes.js";

/** What the browser tests share: Chromium, and the product started the way `npm start` runs it. */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export { repoRoot };

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
  // Embedded database and in-process stores (spawnEntry drops DATABASE_URL and REDIS_URL).
  const gateway = spawnEntry("gateway", "apps/gateway/src/main.ts", {
    PORT: "0",
    PORTAL_DATA_DIR: dataDir,
    PORTAL_BOOTSTRAP_EMAIL: opts.operatorEmail,
    PORTAL_BOOTSTRAP_PASSWORD: opts.operatorPassword,
    EMBEDDED_ROUTER_BASE_PORT: String(portBlock()),
    DEMO_TOKEN_DELAY_MS: "0",
    ...opts.env,
  });
  const stopGateway = async () => {
    // Ctrl-C, as a user would stop it.
    await gateway.kill("SIGINT");
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // The start-up banner ends with a curl line once the gateway is ready.
    const banner = await waitForOutput(
      gateway,
      /listening on (http:\/\/\S+)[\s\S]*Try it:[\s\S]*curl/,
    );
    const base = banner[1] as string;
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
