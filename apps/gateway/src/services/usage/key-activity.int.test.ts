import { apiKeys, eq } from "@portal/db";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, createTestGateway, type TestGateway } from "../../testing/harness.js";
import { KeyActivity } from "./key-activity.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(() => gw.close());

describe("last_used_at in bulk", () => {
  it("writes the latest use of many keys in one flush, only ever forward", async () => {
    const db = gw.dbHandle.db;
    const a = await createTenant(gw);
    const b = await createTenant(gw);
    const activity = new KeyActivity(db, pino({ level: "silent" }), 3_600_000);
    const t1 = new Date("2030-01-01T00:00:00Z");
    const t2 = new Date("2030-01-01T00:00:30Z");
    activity.touch(a.keyId, t2);
    activity.touch(a.keyId, t1); // older: ignored
    activity.touch(b.keyId, t1);
    const lastUsed = async (id: string) =>
      (await db.select({ at: apiKeys.lastUsedAt }).from(apiKeys).where(eq(apiKeys.id, id)))[0]?.at;
    expect(await lastUsed(a.keyId)).toBeNull();
    await activity.flush();
    expect(await lastUsed(a.keyId)).toEqual(t2);
    expect(await lastUsed(b.keyId)).toEqual(t1);
    // Another instance flushing an older time never moves it back.
    activity.touch(a.keyId, t1);
    await activity.flush();
    expect(await lastUsed(a.keyId)).toEqual(t2);
    await activity.close();
  });

  it("is fed by authenticated requests without a write per request", async () => {
    const t = await createTenant(gw);
    const res = await gw.app.request("/v1/models", {
      headers: { authorization: `Bearer ${t.key}` },
    });
    expect(res.status).toBe(200);
    const read = async () =>
      (
        await gw.dbHandle.db
          .select({ at: apiKeys.lastUsedAt })
          .from(apiKeys)
          .where(eq(apiKeys.id, t.keyId))
      )[0]?.at;
    expect(await read()).toBeNull(); // nothing written on the request path
    await gw.services.keyActivity.flush();
    expect(await read()).toBeInstanceOf(Date);
  });
});
