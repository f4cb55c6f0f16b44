import { newId } from "@portal/contracts";
import { eq, inArray, type NewRequestLog, requestLogs } from "@portal/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, createTestGateway, type TestGateway } from "../../testing/harness.js";
import { insertRequestLogs } from "./request-log-writer.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway({ redis: false });
});
afterAll(() => gw.close());

function row(overrides: Partial<NewRequestLog> = {}): NewRequestLog {
  return {
    requestId: newId("req"),
    method: "POST",
    route: "/v1/completions",
    httpStatus: 404,
    errorCode: "model_not_found",
    modelAlias: "m",
    latencyMs: 1,
    overheadMs: 1,
    createdAt: new Date(),
    ...overrides,
  };
}

describe("request logs with hostile client text", () => {
  it("a NUL or lone surrogate in a model name is logged scrubbed and never stalls the writer", async () => {
    const t = await createTenant(gw);
    const ids: string[] = [];
    for (const model of ["a\u0000b", "x\ud800y", "plain"]) {
      const res = await gw.app.request("/v1/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${t.key}`, "content-type": "application/json" },
        body: JSON.stringify({ model, prompt: "hi" }),
      });
      expect(res.status, await res.clone().text()).toBe(404);
      ids.push(((await res.json()) as { request_id: string }).request_id);
    }
    await gw.services.requestLogs.flush();
    expect(gw.services.requestLogs.pending).toBe(0);
    const rows = await gw.dbHandle.db
      .select({ requestId: requestLogs.requestId, modelAlias: requestLogs.modelAlias })
      .from(requestLogs)
      .where(inArray(requestLogs.requestId, ids));
    expect(new Map(rows.map((r) => [r.requestId, r.modelAlias]))).toEqual(
      new Map([
        [ids[0], "a\ufffdb"],
        [ids[1], "x\ufffdy"],
        [ids[2], "plain"],
      ]),
    );
  });

  it("writes the good rows of a batch and drops only a row that fails on its data", async () => {
    const good = [row(), row()];
    const poison = row({ httpStatus: 2 ** 40 }); // out of range for int: a data error
    const dropped: string[] = [];
    await insertRequestLogs(
      gw.dbHandle.db,
      [good[0] as NewRequestLog, poison, good[1] as NewRequestLog],
      (r) => dropped.push(r.requestId),
    );
    expect(dropped).toEqual([poison.requestId]);
    const written = await gw.dbHandle.db
      .select({ requestId: requestLogs.requestId })
      .from(requestLogs)
      .where(
        inArray(
          requestLogs.requestId,
          [...good, poison].map((r) => r.requestId),
        ),
      );
    expect(written.map((r) => r.requestId).sort()).toEqual(good.map((r) => r.requestId).sort());
    const none = await gw.dbHandle.db
      .select()
      .from(requestLogs)
      .where(eq(requestLogs.requestId, poison.requestId));
    expect(none).toEqual([]);
  });
});
