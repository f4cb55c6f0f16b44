import { newId } from "@portal/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, eq, openDb, plans } from "./index.js";
import { testDatabaseUrl } from "./testing.js";

describe(`database client (${testDatabaseUrl() ? "real Postgres" : "PGlite"})`, () => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openDb({ url: testDatabaseUrl(), dataDir: "memory://" });
    await handle.migrate();
    // Migrating twice is a no-op, as it is for a second gateway replica.
    await handle.migrate();
  });
  afterAll(() => handle.close());

  it("applies the schema and round-trips rows", async () => {
    const id = newId("plan");
    await handle.db.insert(plans).values({
      id,
      slug: `test-${id}`,
      name: "Test",
      billingMode: "free",
      requestsPerMinuteKey: 10,
      requestsPerMinuteOrg: 20,
      tokensPerMinuteOrg: 1000,
      maxConcurrentPerKey: 2,
      weeklyRequestAllowance: 100,
    });
    const [row] = await handle.db.select().from(plans).where(eq(plans.id, id));
    expect(row).toMatchObject({ id, billingMode: "free", weeklyRequestAllowance: 100 });
    await handle.db.delete(plans).where(eq(plans.id, id));
  });

  it("runs migrations concurrently without failing", async () => {
    if (handle.kind !== "postgres") return expect(handle.kind).toBe("pglite");
    const url = testDatabaseUrl();
    const others = await Promise.all([openDb({ url }), openDb({ url })]);
    await Promise.all(others.map((o) => o.migrate()));
    await Promise.all(others.map((o) => o.close()));
  });
});
