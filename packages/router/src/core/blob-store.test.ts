import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BlobNotFoundError, FsBlobStore, MemoryBlobStore } from "./blob-store.js";
import { sha256Hex } from "./tokens.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("FsBlobStore", () => {
  it("stores content-addressed files and resolves v2 and v3 URNs", async () => {
    const root = await mkdtemp(join(tmpdir(), "router-blobs-"));
    dirs.push(root);
    const store = new FsBlobStore(root);
    const sha = sha256Hex("hello blob");
    const v3 = await store.put(3, "hello blob");
    const v2 = await store.put(2, "hello blob");
    expect(v3).toBe(`urn:blob:v3:fs:0:prompts:${sha}.txt`);
    expect(v2).toBe(`urn:blob:v2:fs:prompts:${sha}.txt`);
    await store.flush();
    expect(await readFile(join(root, "prompts", `${sha}.txt`), "utf8")).toBe("hello blob");
    expect(await store.get(v3)).toBe("hello blob");
    expect(await store.get(v2)).toBe("hello blob");
  });

  it("rejects unknown, foreign and path-traversing URNs", async () => {
    const root = await mkdtemp(join(tmpdir(), "router-blobs-"));
    dirs.push(root);
    const store = new FsBlobStore(root);
    await expect(store.get(`urn:blob:v3:fs:0:prompts:${"0".repeat(64)}.txt`)).rejects.toThrow(
      BlobNotFoundError,
    );
    await expect(store.get("urn:blob:v3:fs:0:prompts:../../etc/passwd")).rejects.toThrow(
      BlobNotFoundError,
    );
    await expect(store.get(`urn:blob:v3:mem:0:prompts:${"a".repeat(64)}.txt`)).rejects.toThrow(
      BlobNotFoundError,
    );
  });

  it("never reads or deletes outside its own folder, e.g. with a bucket of '..'", async () => {
    const parent = await mkdtemp(join(tmpdir(), "router-blobs-"));
    dirs.push(parent);
    const root = join(parent, "data");
    const store = new FsBlobStore(root);
    await store.put(3, "own"); // creates root/prompts
    await store.flush();
    // Content-addressed names in the parent, in root itself and in a folder the store never writes.
    const file = `${sha256Hex("secret")}.txt`;
    await writeFile(join(parent, file), "secret above the data dir");
    await writeFile(join(root, file), "secret in the data dir");
    await mkdir(join(root, "other"));
    await writeFile(join(root, "other", file), "secret in another folder");
    for (const urn of [
      `urn:blob:v3:fs:0:..:${file}`,
      `urn:blob:v2:fs:..:${file}`,
      `urn:blob:v3:fs:0:.:${file}`,
      `urn:blob:v2:fs:other:${file}`,
    ]) {
      await expect(store.get(urn), urn).rejects.toThrow(BlobNotFoundError);
      await expect(store.delete(urn), urn).rejects.toThrow(BlobNotFoundError);
    }
    expect(await readFile(join(parent, file), "utf8")).toBe("secret above the data dir");
    expect(await readFile(join(root, "other", file), "utf8")).toBe("secret in another folder");
  });
});

describe("FsBlobStore write-behind", () => {
  it("serves a blob from memory while its file is being written, and from disk after eviction", async () => {
    const root = await mkdtemp(join(tmpdir(), "router-blobs-"));
    dirs.push(root);
    const store = new FsBlobStore(root, { cacheChars: 8 });
    const urn = await store.put(3, "longer than eight characters");
    expect(await store.get(urn)).toBe("longer than eight characters");
    await store.flush();
    // Too large for the 8-character cache: read back from the file.
    expect(await store.get(urn)).toBe("longer than eight characters");
    const small = await store.put(2, "tiny");
    await store.flush();
    await rm(join(root, "prompts", `${sha256Hex("tiny")}.txt`));
    expect(await store.get(small)).toBe("tiny"); // recent blobs are cached
    await store.delete(small);
    await expect(store.get(small)).rejects.toThrow(BlobNotFoundError);
  });

  it("reports a failed write and answers BlobNotFoundError for that blob afterwards", async () => {
    const root = await mkdtemp(join(tmpdir(), "router-blobs-"));
    dirs.push(root);
    // A regular file where the bucket directory should be: every write fails.
    await writeFile(join(root, "prompts"), "not a directory");
    const errors: string[] = [];
    const store = new FsBlobStore(root, { onWriteError: (_err, file) => errors.push(file) });
    const urn = await store.put(3, "doomed");
    await store.flush();
    expect(errors).toEqual([`${sha256Hex("doomed")}.txt`]);
    await expect(store.get(urn)).rejects.toThrow(BlobNotFoundError);
  });

  it("a delete during the write leaves no file behind", async () => {
    const root = await mkdtemp(join(tmpdir(), "router-blobs-"));
    dirs.push(root);
    const store = new FsBlobStore(root);
    const urn = await store.put(3, "short-lived");
    await store.delete(urn);
    await store.flush();
    await expect(store.get(urn)).rejects.toThrow(BlobNotFoundError);
    await expect(
      readFile(join(root, "prompts", `${sha256Hex("short-lived")}.txt`)),
    ).rejects.toThrow();
  });
});

describe("MemoryBlobStore", () => {
  it("round-trips and drops the oldest entry beyond its bound", async () => {
    const store = new MemoryBlobStore(2);
    const a = await store.put(3, "a");
    const b = await store.put(3, "b");
    const c = await store.put(2, "c");
    expect(await store.get(b)).toBe("b");
    expect(await store.get(c)).toBe("c");
    await expect(store.get(a)).rejects.toThrow(BlobNotFoundError);
  });
});
