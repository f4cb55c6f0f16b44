import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Database, eq, usageEvents } from "@portal/db";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTenant, createTestGateway, type TestGateway } from "../../testing/harness.js";
import { usageItem } from "../../testing/usage.js";
import { MemoryUsageSink } from "./memory-sink.js";
import { persistUsageBatch } from "./persist.js";
import { SpoolUsageSink } from "./spool.js";

// Without Redis, usage waits in an in-process queue. With the data dir's spool behind it, a
// Postgres outage loses nothing: entries past the memory bound and whatever is queued at
// shutdown are fsync'd to the spool, and the next process drains them exactly once.

let gw: TestGateway;
const dirs: string[] = [];
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(async () => {
  await gw.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const logger = pino({ level: "silent" });

/** A database whose every statement fails, as Postgres does while it is down. */
const downDb = new Proxy({} as Database, {
  get: () => () => {
    throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
  },
});

function spoolAt(dir: string, db: Database): SpoolUsageSink {
  return new SpoolUsageSink({
    dir,
    logger,
    persist: (items) => persistUsageBatch(db, items),
    drainIntervalMs: 50,
  });
}

describe("in-process usage queue with the local spool (no Redis)", () => {
  it("keeps usage through a Postgres outage and a restart: spilled, then written exactly once", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "portal-memsink-"));
    dirs.push(dir);
    const t = await createTenant(gw);
    const items = Array.from({ length: 5 }, () => usageItem(t));

    // Postgres down: two entries fit in memory, three spill to the spool at once.
    const down = new MemoryUsageSink(downDb, logger, 60_000, {
      spool: spoolAt(dir, downDb),
      maxBuffered: 2,
    });
    for (const i of items) await down.append(i);
    await vi.waitFor(async () => expect(await down.depth()).toBe(5));
    // Shutdown while Postgres is still down: the two in memory join the spool on disk.
    await down.close();
    expect(readdirSync(dir).length).toBeGreaterThan(0);

    // The next process, with Postgres back, drains the spool into usage_events.
    const up = new MemoryUsageSink(gw.dbHandle.db, logger, 60_000, {
      spool: spoolAt(dir, gw.dbHandle.db),
    });
    const stored = async () =>
      gw.dbHandle.db
        .select({ id: usageEvents.requestId })
        .from(usageEvents)
        .where(eq(usageEvents.orgId, t.orgId));
    await vi.waitFor(async () => expect(await stored()).toHaveLength(5), { timeout: 10_000 });
    await up.close();
    expect((await stored()).map((r) => r.id).sort()).toEqual(
      items.map((i) => i.event.requestId).sort(),
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});
