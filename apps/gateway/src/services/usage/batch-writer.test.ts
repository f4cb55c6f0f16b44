import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import { BatchWriter } from "./batch-writer.js";

const logger = pino({ level: "silent" });

describe("BatchWriter", () => {
  it("writes in batches of at most maxBatch and keeps order", async () => {
    const batches: number[][] = [];
    const w = new BatchWriter<number>({
      name: "t",
      intervalMs: 10_000,
      maxBatch: 3,
      maxBuffered: 100,
      logger,
      write: async (rows) => void batches.push([...rows]),
    });
    for (let i = 0; i < 7; i++) w.push(i);
    await w.close();
    expect(batches.flat()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(Math.max(...batches.map((b) => b.length))).toBe(3);
  });

  it("keeps rows across a failed write and writes them on the next flush", async () => {
    let fail = true;
    const written: number[] = [];
    const w = new BatchWriter<number>({
      name: "t",
      intervalMs: 10_000,
      maxBatch: 10,
      maxBuffered: 100,
      logger,
      write: async (rows) => {
        if (fail) throw new Error("db down");
        written.push(...rows);
      },
    });
    w.push(1);
    w.push(2);
    await w.flush();
    expect(w.pending).toBe(2);
    fail = false;
    await w.close();
    expect(written).toEqual([1, 2]);
    expect(w.pending).toBe(0);
  });

  it("flushes on its interval", async () => {
    const written: number[] = [];
    const w = new BatchWriter<number>({
      name: "t",
      intervalMs: 10,
      maxBatch: 10,
      maxBuffered: 100,
      logger,
      write: async (rows) => void written.push(...rows),
    });
    w.push(42);
    // No flush() call: only the interval timer can write it. Poll for that, never a fixed sleep.
    await vi.waitFor(() => expect(written).toEqual([42]), { timeout: 5_000, interval: 5 });
    await w.close();
  });
});
