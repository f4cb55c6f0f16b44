import { DEFAULT_MIGRATIONS_FOLDER } from "@portal/db";
import { describe, expect, it } from "vitest";
import { journalEntryCount, Lifecycle } from "./lifecycle.js";

function lifecycle(applied: () => Promise<number>, expected = 3, checkTimeoutMs = 2000) {
  return new Lifecycle({
    appliedMigrations: applied,
    expectedMigrations: () => expected,
    checkTimeoutMs,
  });
}

describe("Lifecycle readiness", () => {
  it("is ready when the database answers and every migration is applied", async () => {
    const report = await lifecycle(async () => 3).readiness();
    expect(report).toEqual({
      ready: true,
      checks: {
        shutting_down: false,
        database: "ok",
        migrations: { applied: 3, expected: 3 },
      },
    });
  });

  it("stays ready when a newer replica applied more migrations than this build carries", async () => {
    const report = await lifecycle(async () => 4).readiness();
    expect(report.ready).toBe(true);
  });

  it("reports migrations_pending when the database is behind this build", async () => {
    const report = await lifecycle(async () => 2).readiness();
    expect(report).toMatchObject({
      ready: false,
      reason: "migrations_pending",
      checks: { database: "ok", migrations: { applied: 2, expected: 3 } },
    });
  });

  it("reports database_unreachable when the query fails or hangs past the timeout", async () => {
    const failing = await lifecycle(async () => {
      throw new Error("connection refused");
    }).readiness();
    expect(failing).toMatchObject({
      ready: false,
      reason: "database_unreachable",
      checks: { database: "unreachable" },
    });
    const hanging = await lifecycle(() => new Promise<number>(() => {}), 3, 20).readiness();
    expect(hanging).toMatchObject({ ready: false, reason: "database_unreachable" });
  });

  it("stays ready, degraded, when the database goes away after the replica was ready", async () => {
    let up = true;
    const l = lifecycle(async () => {
      if (!up) throw new Error("connection refused");
      return 3;
    });
    expect((await l.readiness()).ready).toBe(true);
    up = false;
    expect(await l.readiness()).toEqual({
      ready: true,
      degraded: ["database"],
      checks: { shutting_down: false, database: "unreachable", migrations: null },
    });
    up = true;
    expect(await l.readiness()).toMatchObject({ ready: true, checks: { database: "ok" } });
    expect((await l.readiness()).degraded).toBeUndefined();
    l.beginShutdown();
    expect(await l.readiness()).toMatchObject({ ready: false, reason: "shutting_down" });
  });

  it("reports shutting_down once shutdown began, without touching the database", async () => {
    let queried = 0;
    const l = lifecycle(async () => {
      queried += 1;
      return 3;
    });
    expect(l.isShuttingDown).toBe(false);
    l.beginShutdown();
    expect(l.isShuttingDown).toBe(true);
    expect(await l.readiness()).toEqual({
      ready: false,
      reason: "shutting_down",
      checks: { shutting_down: true, database: "skipped", migrations: null },
    });
    expect(queried).toBe(0);
  });

  it("counts the checked-in migrations from drizzle-kit's journal", () => {
    expect(journalEntryCount(DEFAULT_MIGRATIONS_FOLDER)).toBeGreaterThanOrEqual(1);
  });
});
