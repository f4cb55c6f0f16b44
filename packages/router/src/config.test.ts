import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRouterConfig, RouterConfigError } from "./config.js";

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
