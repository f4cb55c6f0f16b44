import { describe, expect, it } from "vitest";
import type { QueuedUsage } from "./persist.js";
import { isPermanentWriteError, persistIsolatingPoison } from "./poison.js";

const item = (id: string) => ({ event: { requestId: id } }) as unknown as QueuedUsage;
const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe("poison isolation in the usage writers", () => {
  it("classifies constraint and data errors as permanent, through wrapping causes", () => {
    expect(isPermanentWriteError(pgError("23503"))).toBe(true);
    expect(isPermanentWriteError(pgError("22P02"))).toBe(true);
    expect(isPermanentWriteError(new Error("wrapped", { cause: pgError("23505") }))).toBe(true);
    expect(isPermanentWriteError(pgError("08006"))).toBe(false); // connection failure
    expect(isPermanentWriteError(pgError("40001"))).toBe(false); // serialization failure
    expect(isPermanentWriteError(new Error("ECONNRESET"))).toBe(false);
  });

  it("writes the good items one by one and hands only the poison to onDead", async () => {
    const written: string[] = [];
    const dead: string[] = [];
    await persistIsolatingPoison(
      async (items) => {
        if (items.some((i) => i.event.requestId === "bad")) throw pgError("23503");
        written.push(...items.map((i) => i.event.requestId));
      },
      [item("a"), item("bad"), item("b")],
      async (i) => {
        dead.push(i.event.requestId);
      },
    );
    expect(written).toEqual(["a", "b"]);
    expect(dead).toEqual(["bad"]);
  });

  it("rethrows transient failures so the whole batch is retried later", async () => {
    await expect(
      persistIsolatingPoison(
        async () => {
          throw pgError("08006");
        },
        [item("a")],
        async () => {},
      ),
    ).rejects.toThrow("pg 08006");
  });
});
