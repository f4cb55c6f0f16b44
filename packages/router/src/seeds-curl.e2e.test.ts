import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RouterConfig } from "./config.js";
import { API_KEY, startTestRouter, type TestRouter } from "./testing/harness.js";

/**
 * Every curl example of the seed documents for router routes (000 Web2 API reference, 002 direct
 * router; 001 has none), extracted from copies of the documents in `test/seeds/` and run with the
 * real `curl` through bash, as written. Only the placeholders are substituted: `<router_host>:5010`
 * and `<api_key>` in 000 by text, `$ROUTER_URL`, `$ROUTER_API_KEY`, `$SESSION_ID`,
 * `$WALLET_ADDRESS` and `$PAYLOAD_KEY_SIGNATURE` in 002 as shell variables. A `.curlrc` (through
 * CURL_HOME) adds `-sS` and a status line, so the commands themselves stay untouched.
 */
const SEEDS = fileURLToPath(new URL("../test/seeds/", import.meta.url));

/** The curl commands of a document: a `curl` line plus its `\` continuations, open quotes and heredoc. */
export function extractCurlCommands(text: string): string[] {
  const lines = text.split("\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^curl\s/.test(lines[i] ?? "")) continue;
    const block: string[] = [];
    let quotes = 0;
    let heredoc: string | undefined;
    for (; i < lines.length; i++) {
      const line = lines[i] ?? "";
      block.push(line);
      if (heredoc !== undefined) {
        if (line.trim() === heredoc) break;
        continue;
      }
      quotes += (line.match(/'/g) ?? []).length;
      heredoc = /<<-?'?(\w+)'?/.exec(line)?.[1];
      if (heredoc !== undefined) continue;
      if (quotes % 2 === 0 && !line.trimEnd().endsWith("\\")) break;
    }
    out.push(block.join("\n"));
  }
  return out;
}

const wallet = privateKeyToAccount(generatePrivateKey());
const config: RouterConfig = {
  sessions: [
    { id: 0, model: "demo", mode: "ephemeral" },
    { id: 68, model: "demo", mode: "ephemeral", private: true },
    { id: 201, model: "demo", mode: "ephemeral" },
    { id: 202, model: "demo", mode: "ephemeral" },
    { id: 203, model: "demo", mode: "ephemeral" },
  ],
  default_session_id: 0,
  v3_pools: {
    delegate: { "1": [201], "3": [201, 202, 203] },
    validate: { "1": [201], "3": [201, 202, 203] },
  },
  privacy: { allowed_list: `68:${wallet.address}` },
};

let t: TestRouter;
let curlHome: string;
beforeAll(async () => {
  t = await startTestRouter({ config, encryptionSeed: "seed-curl-encryption-seed" }, 3);
  curlHome = mkdtempSync(join(tmpdir(), "router-curl-"));
  writeFileSync(join(curlHome, ".curlrc"), '-sS\n-w "\\n__HTTP_STATUS__ %{http_code}\\n"\n');
});
afterAll(async () => {
  await t?.close();
  rmSync(curlHome, { recursive: true, force: true });
});

/** Run one command with bash; returns curl's output split into body and HTTP status. */
function run(
  command: string,
  env: Record<string, string>,
): Promise<{ code: number; status: number; body: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "bash",
      ["-c", command],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", CURL_HOME: curlHome, ...env } },
      (err, stdout, stderr) => {
        const m = /\n?__HTTP_STATUS__ (\d{3})\n?$/.exec(stdout);
        resolve({
          code: err === null ? 0 : typeof err.code === "number" ? err.code : 1,
          status: m === null ? 0 : Number(m[1]),
          body: m === null ? stdout : stdout.slice(0, m.index),
          stderr,
        });
      },
    );
  });
}

/** The JSON body of a response (after the headers when the example uses `curl -i`). */
const jsonBody = (body: string): Record<string, unknown> => {
  const at = body.indexOf("\r\n\r\n");
  return JSON.parse(at >= 0 ? body.slice(at + 4) : body) as Record<string, unknown>;
};

/** What each route's answer must look like beyond HTTP 200. */
function checkBody(command: string, body: string): void {
  const path = /\/(api\/v\d\/[\w/-]+|[\w.-]+\/[\w.-]+)/.exec(command.split("\n")[0] ?? "")?.[1];
  const b = jsonBody(body);
  if (path?.includes("/completions")) expect(b).toMatchObject({ object: "text_completion" });
  else if (path?.includes("/delegate")) expect(b).toMatchObject({ object: "delegation" });
  else if (path?.includes("/validate")) {
    expect(["VALID", "INVALID", "RETRY", "NEEDS_SPEC"]).toContain(b.verdict);
  } else if (path?.includes("/factcheck")) expect(b).toHaveProperty("verdict");
  else if (path?.includes("payload_enc_key")) expect(b).toMatchObject({ session_id: 68 });
  else expect(b).toBeTypeOf("object");
}

describe("seed curl examples run as written against a started router", () => {
  it("000 (Web2 API reference): all 9 examples; the POSTs first so tasks/0/0 exists", async () => {
    const text = readFileSync(join(SEEDS, "000-web2-api-reference.txt"), "utf8");
    const host = new URL(t.node.url).host;
    const commands = extractCurlCommands(text).map((c) =>
      c.replaceAll("<router_host>:5010", host).replaceAll("<api_key>", API_KEY),
    );
    expect(commands).toHaveLength(9);
    const ordered = [
      ...commands.filter((c) => c.includes("-X POST")),
      ...commands.filter((c) => !c.includes("-X POST")),
    ];
    for (const command of ordered) {
      const r = await run(command, {});
      expect(r.code, `${command}\n${r.stderr}`).toBe(0);
      expect(r.status, `${command}\n${r.body}`).toBe(200);
      checkBody(command, r.body);
    }
  });

  it("002 (direct router): all 12 router examples (the hosted-gateway one is the gateway's)", async () => {
    const text = readFileSync(join(SEEDS, "002-direct-router.txt"), "utf8");
    const all = extractCurlCommands(text);
    const commands = all.filter((c) => c.includes("$ROUTER_URL"));
    expect(all).toHaveLength(13);
    expect(commands).toHaveLength(12);
    const env = {
      ROUTER_URL: t.node.url,
      ROUTER_API_KEY: API_KEY,
      SESSION_ID: "0",
      WALLET_ADDRESS: wallet.address,
      PAYLOAD_KEY_SIGNATURE: await wallet.signMessage({ message: "68" }),
    };
    for (const command of commands) {
      const r = await run(command, env);
      expect(r.code, `${command}\n${r.stderr}`).toBe(0);
      expect(r.status, `${command}\n${r.body}`).toBe(200);
      checkBody(command, r.body);
    }
  });
});
