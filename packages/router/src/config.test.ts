import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRouterConfig, parseRouterConfig, RouterConfigError } from "./config.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "router-config-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

describe("loadRouterConfig", () => {
  it("loads the example config shipped with apps/router", () => {
    const cfg = loadRouterConfig(
      new URL("../../../apps/router/router.config.example.json", import.meta.url).pathname,
    );
    expect(cfg.default_session_id).toBe(0);
    expect(cfg.sessions.map((s) => s.id)).toEqual([0, 1, 2, 10]);
    expect(cfg.sessions[2]).toMatchObject({
      mode: "dedicated",
      miners: ["miner-a", "miner-b"],
      private: true,
    });
  });

  it("names every bad field", async () => {
    const path = await file(
      "bad.json",
      JSON.stringify({
        default_session_id: 9,
        sessions: [
          { id: 0, model: "demo", mode: "weird" },
          { id: 1, model: "demo", mode: "ephemeral", timeout: 10, precommit_timeout: 20 },
          { id: 2, model: "demo", mode: "dedicated" },
        ],
      }),
    );
    let message = "";
    try {
      loadRouterConfig(path);
    } catch (err) {
      expect(err).toBeInstanceOf(RouterConfigError);
      message = (err as Error).message;
    }
    expect(message).toContain("sessions.0.mode");
    expect(message).toContain("sessions.1.timeout: timeout must be greater than precommit_timeout");
    expect(message).toContain("sessions.2.miners: a dedicated session lists its miners");
  });

  it("says when the file is missing or not JSON, and refuses duplicate ids", async () => {
    expect(() => loadRouterConfig(join(dir, "nope.json"))).toThrow(/cannot read router config/);
    expect(() => loadRouterConfig(`${dir}`)).toThrow(RouterConfigError);
    const notJson = await file("x.json", "{ sessions: ");
    expect(() => loadRouterConfig(notJson)).toThrow(/is not JSON/);
    const dup = await file(
      "dup.json",
      JSON.stringify({
        sessions: [
          { id: 1, model: "a", mode: "ephemeral" },
          { id: 1, model: "b", mode: "ephemeral" },
        ],
      }),
    );
    expect(() => loadRouterConfig(dup)).toThrow(/session ids must be unique/);
    const noDefault = await file(
      "nodef.json",
      JSON.stringify({
        default_session_id: 3,
        sessions: [{ id: 1, model: "a", mode: "ephemeral" }],
      }),
    );
    expect(() => loadRouterConfig(noDefault)).toThrow(
      /default_session_id names no configured session/,
    );
  });
});

describe("web_fetch config block", () => {
  const sessions = [{ id: 0, model: "demo", mode: "ephemeral" }];

  it("is off when absent, and fills the defaults when present", () => {
    expect(parseRouterConfig({ sessions }).web_fetch).toBeUndefined();
    expect(
      parseRouterConfig({ sessions, web_fetch: { hosts: ["example.com"] } }).web_fetch,
    ).toEqual({
      hosts: ["example.com"],
      allow_private: false,
      timeout_ms: 10_000,
      max_bytes: 1_048_576,
      max_urls: 3,
    });
  });

  it("names every bad field, unknown keys included", () => {
    expect(() =>
      parseRouterConfig({
        sessions,
        web_fetch: {
          hosts: ["ok.example", "http://bad.example/", "*"],
          timeout_ms: 5,
          max_bytes: 10,
          max_urls: 0,
          allow_privte: true,
        },
      }),
    ).toThrow(
      /web_fetch\.hosts\.1: a host name[\s\S]*web_fetch\.hosts\.2[\s\S]*web_fetch\.timeout_ms[\s\S]*web_fetch\.max_bytes[\s\S]*web_fetch\.max_urls[\s\S]*allow_privte/,
    );
  });

  it("needs at least one host, and says where to put it", () => {
    expect(() => parseRouterConfig({ sessions, web_fetch: { hosts: [] } })).toThrow(
      /web_fetch\.hosts: list at least one host.*ROUTER_WEB_FETCH_HOSTS/,
    );
    expect(() => parseRouterConfig({ sessions, web_fetch: {} })).toThrow(RouterConfigError);
  });
});
