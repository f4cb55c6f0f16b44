import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startTestRouter, type TestRouter, waitFor } from "../testing/harness.js";
import { FsBlobStore, MemoryBlobStore } from "./blob-store.js";
import { sha256Hex } from "./tokens.js";

let t: TestRouter | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await t?.close();
  t = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "router-housekeeping-"));
  dirs.push(d);
  return d;
}

const files = async (root: string): Promise<string[]> =>
  (await readdir(join(root, "prompts")).catch(() => [] as string[])).sort();

describe("blob store delete and sweep", () => {
  it("FsBlobStore deletes by URN (idempotent) and sweeps only old, unclaimed files", async () => {
    const root = await tmp();
    const store = new FsBlobStore(root);
    const a = await store.put(3, "prompt a");
    const b = await store.put(2, "prompt b");
    const c = await store.put(2, "prompt c");
    await store.flush();
    await store.delete(a);
    await store.delete(a);
    await expect(store.get(a)).rejects.toThrow("blob not found");
    const old = new Date(Date.now() - 3600_000);
    await utimes(join(root, "prompts", `${sha256Hex("prompt b")}.txt`), old, old);
    await utimes(join(root, "prompts", `${sha256Hex("prompt c")}.txt`), old, old);
    const claimed = `prompts:${sha256Hex("prompt c")}.txt`;
    expect(await store.sweep(60_000, (key) => key === claimed)).toBe(1);
    await expect(store.get(b)).rejects.toThrow("blob not found");
    expect(await store.get(c)).toBe("prompt c");
  });

  it("MemoryBlobStore deletes and sweeps the same way", async () => {
    const store = new MemoryBlobStore();
    const a = await store.put(3, "x");
    await store.put(3, "y");
    await store.delete(a);
    expect(store.size).toBe(1);
    expect(await store.sweep(0, () => true)).toBe(0);
    expect(await store.sweep(-1, () => false)).toBe(1);
    expect(store.size).toBe(0);
  });
});

describe("router blob housekeeping", () => {
  it("a task's prompt blob is deleted when the task leaves retention; shared prompts survive", async () => {
    const root = await tmp();
    t = await startTestRouter({ dataDir: root, taskRetention: 2 }, 1);
    const post = async (prompt: string): Promise<void> => {
      const res = await t?.post("/api/v3/completions/0", { prompt });
      expect(res?.status).toBe(200);
    };
    await post("alpha");
    await post("beta");
    await expect
      .poll(() => files(root))
      .toEqual([`${sha256Hex("alpha")}.txt`, `${sha256Hex("beta")}.txt`].sort());
    await post("gamma"); // evicts task 0 ("alpha")
    const router = t;
    await waitFor(() => router.node.core.tasks.list(0).length === 2);
    await expect
      .poll(() => files(root))
      .toEqual([`${sha256Hex("beta")}.txt`, `${sha256Hex("gamma")}.txt`].sort());
    // "gamma" again: two retained tasks share one blob; evicting "beta" leaves gamma's blob.
    await post("gamma");
    await expect.poll(() => files(root)).toEqual([`${sha256Hex("gamma")}.txt`]);
    await post("delta"); // evicts the first "gamma" task; the second still needs the blob
    await expect
      .poll(() => files(root))
      .toEqual([`${sha256Hex("delta")}.txt`, `${sha256Hex("gamma")}.txt`].sort());
  });

  it("at start the sweep removes orphans older than the TTL and keeps recent ones", async () => {
    const root = await tmp();
    await mkdir(join(root, "prompts"), { recursive: true });
    const orphan = join(root, "prompts", `${sha256Hex("old orphan")}.txt`);
    const recent = join(root, "prompts", `${sha256Hex("recent orphan")}.txt`);
    await writeFile(orphan, "old orphan");
    await writeFile(recent, "recent orphan");
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(orphan, old, old);
    t = await startTestRouter({ dataDir: root, blobTtlMs: 3600_000 }, 0);
    await expect.poll(() => files(root)).toEqual([`${sha256Hex("recent orphan")}.txt`]);
    expect(await t.node.core.sweepBlobs()).toBe(0);
  });
});
