import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestGateway, type TestGateway } from "../../testing/harness.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(() => gw.close());

describe("gateway probes", () => {
  it("/livez answers 200 without a key", async () => {
    const res = await gw.app.request("/livez");
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ status: "ok" });
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("/readyz answers 200 against the migrated database, without a key", async () => {
    const res = await gw.app.request("/readyz");
    const body = (await res.json()) as {
      checks: { migrations: { applied: number; expected: number } };
    };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({
      status: "ready",
      checks: { shutting_down: false, database: "ok" },
    });
    expect(body.checks.migrations.applied).toBeGreaterThanOrEqual(body.checks.migrations.expected);
    expect(body.checks.migrations.expected).toBeGreaterThanOrEqual(1);
  });

  it("/readyz turns 503 shutting_down once shutdown begins while /livez stays 200", async () => {
    gw.services.lifecycle.beginShutdown();
    const ready = await gw.app.request("/readyz");
    const body = await ready.json();
    expect(ready.status, JSON.stringify(body)).toBe(503);
    expect(body).toEqual({
      status: "unavailable",
      reason: "shutting_down",
      checks: { shutting_down: true, database: "skipped", migrations: null },
    });
    expect((await gw.app.request("/livez")).status).toBe(200);
  });
});

describe("gateway probes without a database", () => {
  it("/readyz answers 503 database_unreachable when the database is gone before it was ever ready", async () => {
    const other = await createTestGateway();
    await other.dbHandle.close();
    try {
      const res = await other.app.request("/readyz");
      const body = await res.json();
      expect(res.status, JSON.stringify(body)).toBe(503);
      expect(body).toMatchObject({ status: "unavailable", reason: "database_unreachable" });
      expect((await other.app.request("/livez")).status).toBe(200);
    } finally {
      await other.services.close();
    }
  });

  it("/readyz stays 200 degraded when the database goes away after the replica was ready", async () => {
    const other = await createTestGateway();
    try {
      expect((await other.app.request("/readyz")).status).toBe(200);
      await other.dbHandle.close();
      const res = await other.app.request("/readyz");
      const body = await res.json();
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body).toEqual({
        status: "degraded",
        degraded: ["database"],
        checks: { shutting_down: false, database: "unreachable", migrations: null },
      });
    } finally {
      await other.services.close();
    }
  });
});
