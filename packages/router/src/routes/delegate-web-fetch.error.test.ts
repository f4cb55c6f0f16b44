import { RouterErrorBody } from "@portal/contracts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RouterConfig } from "../config.js";
import { startTestRouter, type TestRouter } from "../testing/harness.js";
import { recordingDemoEngine } from "../testing/recording-engine.js";
import { redirect, serve, startWebServer, type TestWebServer } from "../testing/web-server.js";

/**
 * Delegate web fetch refusals (400 invalid_request) and upstream failures (502
 * web_fetch_failed) through the real router and a real HTTP server on 127.0.0.1. A refused or
 * failed fetch never dispatches a task.
 */
const sessions: RouterConfig["sessions"] = [
  { id: 68, model: "demo", mode: "ephemeral" },
  { id: 301, model: "demo", mode: "ephemeral" },
];
const v3_pools = { delegate: { "1": [301] } };

let web: TestWebServer;
const prompts: string[] = [];
const routers: TestRouter[] = [];

async function router(webFetch: RouterConfig["web_fetch"]): Promise<TestRouter> {
  const t = await startTestRouter({
    config: { sessions, v3_pools, ...(webFetch !== undefined && { web_fetch: webFetch }) },
  });
  await t.addMiners(1, { engine: recordingDemoEngine(prompts) });
  routers.push(t);
  return t;
}

async function fails(
  res: Response,
  status: number,
  code: string,
  details: Record<string, unknown> = {},
): Promise<RouterErrorBody["error"]> {
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(status);
  const { error } = RouterErrorBody.parse(body);
  expect(error, JSON.stringify(body)).toMatchObject({ code, details });
  return error;
}

const urlInput = (url: string) => ({
  session_id: 68,
  objective: "Summarize.",
  input: { kind: "url", payload: url },
});

beforeAll(async () => {
  web = await startWebServer({
    "/ok": serve("text/plain", "fine"),
    "/away": redirect("https://not-allowed.example/page"),
    "/big": serve("text/plain", "x".repeat(5000)),
    "/stall": (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first bytes, then nothing");
    },
    "/broken": serve("text/plain", "upstream exploded", 500),
    "/missing": serve("text/html", "<p>gone</p>", 404),
    "/report.pdf": serve("application/pdf", "%PDF-1.7"),
  });
});
afterAll(async () => {
  await Promise.all(routers.map((r) => r.close()));
  await web.close();
});
beforeEach(() => {
  prompts.length = 0;
  web.hits.length = 0;
});

describe("web fetch on (loopback allowed): upstream failures are 502 web_fetch_failed", () => {
  let t: TestRouter;
  beforeAll(async () => {
    t = await router({
      hosts: ["127.0.0.1"],
      allow_private: true,
      timeout_ms: 300,
      max_bytes: 4096,
      max_urls: 3,
    });
  });

  it("a redirect to a host off the allowlist is refused (400) before it is followed", async () => {
    const e = await fails(
      await t.post("/api/v2/delegate", urlInput(`${web.origin}/away`)),
      400,
      "invalid_request",
      {
        reason: "host_not_allowed",
        host: "not-allowed.example",
        redirected_from: `${web.origin}/away`,
      },
    );
    expect(e.message).toContain("not on this router's web fetch allowlist");
  });

  it("an oversize body", async () => {
    const e = await fails(
      await t.post("/api/v2/delegate", urlInput(`${web.origin}/big`)),
      502,
      "web_fetch_failed",
      { reason: "too_large", max_bytes: 4096, url: `${web.origin}/big` },
    );
    expect(e.message).toContain("larger than 4096 bytes");
  });

  it("a server that stalls past timeout_ms", async () => {
    await fails(
      await t.post("/api/v2/delegate", urlInput(`${web.origin}/stall`)),
      502,
      "web_fetch_failed",
      { reason: "timeout", timeout_ms: 300 },
    );
  });

  it("a non-2xx answer", async () => {
    await fails(
      await t.post("/api/v2/delegate", urlInput(`${web.origin}/broken`)),
      502,
      "web_fetch_failed",
      { reason: "http_status", status: 500 },
    );
    await fails(
      await t.post("/api/v3/delegate", {
        objective: `Read ${web.origin}/missing`,
        fetch_web: true,
        replicas: 1,
      }),
      502,
      "web_fetch_failed",
      { reason: "http_status", status: 404 },
    );
  });

  it("an unsupported content type", async () => {
    const e = await fails(
      await t.post("/api/v2/delegate", urlInput(`${web.origin}/report.pdf`)),
      502,
      "web_fetch_failed",
      { reason: "content_type", content_type: "application/pdf" },
    );
    expect(e.message).toContain("application/pdf is not read");
  });

  it("one bad URL among several refuses the request before anything is fetched", async () => {
    await fails(
      await t.post("/api/v2/delegate", {
        session_id: 68,
        objective: `Compare ${web.origin}/ok with https://elsewhere.example/x`,
        fetch_web: true,
      }),
      400,
      "invalid_request",
      { reason: "host_not_allowed", host: "elsewhere.example" },
    );
    expect(web.hits).toEqual([]);
  });

  it("more URLs than max_urls (the url input counts)", async () => {
    await fails(
      await t.post("/api/v2/delegate", {
        ...urlInput(`${web.origin}/ok?0`),
        objective: `Use ${web.origin}/ok?1 ${web.origin}/ok?2 ${web.origin}/ok?3`,
        fetch_web: true,
      }),
      400,
      "invalid_request",
      { reason: "too_many_urls", found: 4, max_urls: 3 },
    );
    expect(web.hits).toEqual([]);
  });

  it("a url input that is not one http(s) URL, or carries credentials", async () => {
    await fails(
      await t.post("/api/v2/delegate", {
        ...urlInput(""),
        input: { kind: "url", payload: { href: `${web.origin}/ok` } },
      }),
      400,
      "invalid_request",
      { field: "input.payload", payload_type: "object" },
    );
    await fails(await t.post("/api/v2/delegate", urlInput("not a url")), 400, "invalid_request", {
      field: "input.payload",
    });
    await fails(
      await t.post("/api/v3/delegate", { ...urlInput("file:///etc/passwd"), replicas: 1 }),
      400,
      "invalid_request",
      { reason: "scheme" },
    );
    const cred = await fails(
      await t.post("/api/v2/delegate", urlInput(`http://admin:hunter2@127.0.0.1:${web.port}/ok`)),
      400,
      "invalid_request",
      { reason: "credentials" },
    );
    expect(JSON.stringify(cred)).not.toContain("hunter2");
  });

  it("dispatched no task for any of the failures above", () => {
    expect(prompts).toEqual([]);
  });
});

describe("web fetch on without allow_private: loopback is refused (400)", () => {
  let t: TestRouter;
  beforeAll(async () => {
    t = await router({ hosts: ["127.0.0.1", "localhost"] });
  });

  it("an IP literal on the allowlist is still refused", async () => {
    const e = await fails(
      await t.post("/api/v2/delegate", urlInput(`${web.origin}/ok`)),
      400,
      "invalid_request",
      { reason: "private_address", host: "127.0.0.1", address_class: "loopback" },
    );
    expect(e.message).toContain("non-public address");
    await fails(
      await t.post("/api/v3/delegate", {
        objective: `Read ${web.origin}/ok`,
        fetch_web: true,
        replicas: 1,
      }),
      400,
      "invalid_request",
      { reason: "private_address" },
    );
  });

  it("a name resolving to loopback is refused when the socket connects", async () => {
    await fails(
      await t.post("/api/v2/delegate", urlInput(`http://localhost:${web.port}/ok`)),
      400,
      "invalid_request",
      { reason: "private_address", host: "localhost" },
    );
    expect(web.hits).toEqual([]);
    expect(prompts).toEqual([]);
  });
});

describe("web fetch off (no web_fetch block)", () => {
  let t: TestRouter;
  beforeAll(async () => {
    t = await router(undefined);
  });

  it("refuses input.kind url and fetch_web on v2 and v3 as before, saying how to enable it", async () => {
    const off = { fetch_web: false, input_kind: "url" };
    const e = await fails(
      await t.post("/api/v2/delegate", urlInput(`${web.origin}/ok`)),
      400,
      "invalid_request",
      off,
    );
    expect(e.message).toMatch(/^web fetch is not enabled on this router: send the content with/);
    expect(e.message).toContain("ROUTER_WEB_FETCH_HOSTS");
    await fails(
      await t.post("/api/v3/delegate", { objective: `Read ${web.origin}/ok`, fetch_web: true }),
      400,
      "invalid_request",
      { fetch_web: true, input_kind: null },
    );
    expect(web.hits).toEqual([]);
    expect(prompts).toEqual([]);
  });
});
