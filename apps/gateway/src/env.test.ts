import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseEnv } from "./env.js";

describe("gateway env", () => {
  it("applies the documented defaults", () => {
    const result = parseEnv({});
    expect(result).toMatchObject({
      ok: true,
      env: {
        PORT: 8080,
        HOST: "127.0.0.1",
        EMBEDDED_ROUTERS: 2,
        EMBEDDED_ROUTER_BASE_PORT: 5010,
        MAX_BODY_BYTES: 1_048_576,
      },
    });
  });

  it("treats empty strings as unset", () => {
    expect(parseEnv({ DATABASE_URL: "", PORT: "" })).toMatchObject({
      ok: true,
      env: { PORT: 8080 },
    });
  });

  it("names every bad variable", () => {
    const result = parseEnv({
      PORT: "abc",
      DATABASE_URL: "mysql://x",
      PORTAL_BOOTSTRAP_KEY: "sk-123",
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.split(":")[0]).sort()).toEqual([
      "DATABASE_URL",
      "PORT",
      "PORTAL_BOOTSTRAP_KEY",
    ]);
  });

  it("USAGE_WRITER=thread needs a Postgres DATABASE_URL", () => {
    expect(parseEnv({ USAGE_WRITER: "thread" })).toEqual({
      ok: false,
      errors: ["USAGE_WRITER: thread needs DATABASE_URL (PGlite lives in one thread)"],
    });
    expect(
      parseEnv({ USAGE_WRITER: "thread", DATABASE_URL: "postgres://127.0.0.1/x" }),
    ).toMatchObject({ ok: true, env: { USAGE_WRITER: "thread" } });
    expect(parseEnv({ USAGE_WRITER: "yes" }).ok).toBe(false);
  });

  it("makes the process exit non-zero with the variable named", () => {
    const main = fileURLToPath(new URL("./main.ts", import.meta.url));
    const run = spawnSync(process.execPath, ["--import", "tsx", main], {
      env: { ...process.env, PORT: "not-a-port", LOG_LEVEL: "silent" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("Invalid environment");
    expect(run.stderr).toContain("PORT");
  });
});
