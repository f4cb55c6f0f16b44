import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../src/services/api-keys.js";
import { portBlock } from "../src/testing/private-services.js";
import { killAll, repoRoot, spawnEntry, waitForOutput } from "./processes.js";

// Every program in examples/ run as a user would, against the real product started the way
// `npm start` starts it (embedded PGlite, routers and demo miners), asserting what they print.

const run = promisify(execFile);
const dataDir = mkdtempSync(path.join(tmpdir(), "portal-examples-"));
const apiKey = generateApiKey();
const PROMPT = "Explain decentralized AI inference in one sentence.";
let base: string;
let env: NodeJS.ProcessEnv;

/** Run an example; a non-zero exit fails with its output. */
async function example(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { cwd: repoRoot, env, timeout: 60_000 });
    return stdout;
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(" ")} exited ${e.code}:\n${e.stdout}\n${e.stderr}`);
  }
}

/** What the gateway answers the examples' prompt (the demo miners are deterministic). */
async function expectedText(maxTokens: number): Promise<string> {
  const res = await fetch(`${base}/v1/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "default", prompt: PROMPT, max_tokens: maxTokens }),
  });
  const body = (await res.json()) as { data: { choices: Array<{ text: string }> } };
  expect(res.status, JSON.stringify(body)).toBe(200);
  const text = body.data.choices[0]?.text ?? "";
  expect(text.length).toBeGreaterThan(0);
  return text;
}

function line(stdout: string, label: string): string {
  const m = new RegExp(`^${label}: (.*)$`, "m").exec(stdout);
  if (!m) throw new Error(`no '${label}:' line in:\n${stdout}`);
  return m[1] as string;
}

beforeAll(async () => {
  const gateway = spawnEntry("gateway", "apps/gateway/src/main.ts", {
    PORT: "0",
    PORTAL_DATA_DIR: dataDir,
    PORTAL_BOOTSTRAP_KEY: apiKey,
    EMBEDDED_ROUTER_BASE_PORT: String(portBlock()),
    EMBEDDED_ROUTERS: "1",
    DEMO_TOKEN_DELAY_MS: "0",
  });
  // The SDK example imports @portal/sdk as a user would: its built, publishable dist/.
  const [m] = await Promise.all([
    waitForOutput(gateway, /listening on (http:\/\/\S+)[\s\S]*Try it:/),
    run("npm", ["run", "build", "-w", "@portal/sdk"], { cwd: repoRoot }),
  ]);
  base = m[1] as string;
  env = { ...process.env, PORTAL_URL: base, PORTAL_API_KEY: apiKey };
});
afterAll(() => {
  killAll();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("examples/", () => {
  it("curl.sh prints an ok envelope with the completion", async () => {
    const stdout = await example("sh", ["examples/curl.sh"]);
    const envelope = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(envelope)).toEqual([
      "request_id",
      "status",
      "model",
      "router_pool",
      "data",
      "error",
    ]);
    expect(envelope).toMatchObject({
      status: "ok",
      model: "default",
      router_pool: "default",
      error: null,
      data: { object: "text_completion", choices: [{ text: await expectedText(32) }] },
    });
    expect(envelope.request_id).toMatch(/^req_/);
  });

  it("node/sdk.mjs completes, streams, chats and reads usage through @portal/sdk", async () => {
    const stdout = await example(process.execPath, ["examples/node/sdk.mjs"]);
    expect(line(stdout, "models")).toBe("default");
    expect(line(stdout, "request_id")).toMatch(/^req_/);
    expect(line(stdout, "text")).toBe(await expectedText(32));
    expect(line(stdout, "cost")).toMatch(/^\d+\.\d{6} USD$/);
    expect(Number(line(stdout, "stream tokens"))).toBeGreaterThan(0);
    expect(line(stdout, "streamed").length).toBeGreaterThan(0);
    expect(line(stdout, "chat").length).toBeGreaterThan(0);
    expect(line(stdout, "usage status")).toBe("ok");
  });

  it("node/openai.mjs chats and streams through the official openai client", async () => {
    const stdout = await example(process.execPath, ["examples/node/openai.mjs"]);
    expect(line(stdout, "chat").length).toBeGreaterThan(0);
    expect(Number(line(stdout, "tokens"))).toBeGreaterThan(0);
    expect(line(stdout, "streamed").length).toBeGreaterThan(0);
  });

  const hasRequests = spawnSync("python3", ["-c", "import requests"]).status === 0;
  if (!hasRequests && process.env.CI === "true") {
    it("python/completion.py needs python3 with requests", () => {
      throw new Error("CI=true but `python3 -c 'import requests'` fails: install python3-requests");
    });
  } else if (!hasRequests) {
    console.warn(
      "examples.e2e: python3 `requests` is not installed; skipping python/completion.py",
    );
  }
  it.skipIf(!hasRequests)("python/completion.py prints the envelope's fields", async () => {
    const stdout = await example("python3", ["examples/python/completion.py"]);
    expect(line(stdout, "request_id")).toMatch(/^req_/);
    expect(line(stdout, "model")).toBe("default pool: default");
    expect(line(stdout, "text")).toBe(await expectedText(32));
    expect(line(stdout, "tokens")).toMatch(/^\d+ cost: \d+\.\d{6} USD$/);
  });

  it("examples report a bad key as a typed error and exit non-zero", async () => {
    const bad = { ...env, PORTAL_API_KEY: generateApiKey() };
    const result = await run(process.execPath, ["examples/node/sdk.mjs"], {
      cwd: repoRoot,
      env: bad,
    }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Portal error unauthorized \(HTTP 401, req_/);
  });
});
