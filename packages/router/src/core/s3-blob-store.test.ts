import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { RouterCompletionResponse } from "@portal/contracts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestRouter } from "../testing/harness.js";
import { BlobNotFoundError } from "./blob-store.js";
import { S3BlobStore, S3RequestError, signS3Request } from "./s3-blob-store.js";

// AWS's published SigV4 examples for S3 (sig-v4-header-based-auth, "Example signature
// calculations"): fixed keys, bucket and date, known signatures.
const AWS = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
const AWS_DATE = new Date("2013-05-24T00:00:00Z");
const EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const signatureOf = (h: Record<string, string>) =>
  /Signature=([0-9a-f]{64})$/.exec(h.authorization ?? "")?.[1];

describe("signS3Request (AWS SigV4 examples)", () => {
  it("GET Object with a Range header", () => {
    const h = signS3Request(
      {
        method: "GET",
        url: new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
        region: "us-east-1",
        payloadHash: EMPTY,
        headers: { Range: "bytes=0-9" },
        now: AWS_DATE,
      },
      AWS,
    );
    expect(h.authorization).toContain(
      "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,",
    );
    expect(signatureOf(h)).toBe("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    expect(h).toMatchObject({ "x-amz-date": "20130524T000000Z", "x-amz-content-sha256": EMPTY });
    expect(h).not.toHaveProperty("host");
  });

  it("GET Bucket (List Objects): the query is signed sorted", () => {
    const h = signS3Request(
      {
        method: "GET",
        url: new URL("https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2"),
        region: "us-east-1",
        payloadHash: EMPTY,
        now: AWS_DATE,
      },
      AWS,
    );
    expect(signatureOf(h)).toBe("34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
  });
});

// A small S3-compatible server (path style) that checks every request's SigV4 signature against
// what actually arrived on the wire (method, host, path, query, signed headers, body hash).
const CREDS = { accessKeyId: "local-access-key", secretAccessKey: "local-secret-key-0123456789" };
const BUCKET = "portal-blobs";
type Obj = { body: string; modified: Date };
const objects = new Map<string, Obj>();
const log: string[] = [];
let server: Server;
let endpoint: string;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

function authorized(req: IncomingMessage, url: URL, body: string): boolean {
  const auth = req.headers.authorization ?? "";
  const signedNames = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(";") ?? [];
  const amz = String(req.headers["x-amz-date"] ?? "");
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amz);
  if (m === null || !/Credential=local-access-key\//.test(auth)) return false;
  const payloadHash = String(req.headers["x-amz-content-sha256"] ?? "");
  if (payloadHash !== createHash("sha256").update(body).digest("hex")) return false;
  const headers: Record<string, string> = {};
  for (const n of signedNames) {
    if (n !== "host" && n !== "x-amz-date" && n !== "x-amz-content-sha256") {
      headers[n] = String(req.headers[n] ?? "");
    }
  }
  const expected = signS3Request(
    {
      method: req.method ?? "GET",
      url,
      region: "us-east-1",
      payloadHash,
      headers,
      now: new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`),
    },
    CREDS,
  );
  return expected.authorization === auth;
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    const body = await readBody(req);
    log.push(`${req.method} ${url.pathname}${url.search}`);
    if (!authorized(req, url, body)) {
      res.writeHead(403).end("<Error><Code>SignatureDoesNotMatch</Code></Error>");
      return;
    }
    const [, bucket, ...rest] = url.pathname.split("/");
    const key = decodeURIComponent(rest.join("/"));
    if (bucket !== BUCKET) {
      res.writeHead(404).end("<Error><Code>NoSuchBucket</Code></Error>");
      return;
    }
    if (req.method === "GET" && key === "" && url.searchParams.get("list-type") === "2") {
      const prefix = url.searchParams.get("prefix") ?? "";
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
      // Tiny pages, so the store must follow tokens; the token is the last key of the page.
      const after = url.searchParams.get("continuation-token");
      const rest = after === null ? keys : keys.filter((k) => k > after);
      const page = rest.slice(0, 2);
      const more = rest.length > 2;
      const contents = page
        .map(
          (k) =>
            `<Contents><Key>${k}</Key><LastModified>${objects.get(k)?.modified.toISOString()}</LastModified></Contents>`,
        )
        .join("");
      res
        .writeHead(200, { "Content-Type": "application/xml" })
        .end(
          `<?xml version="1.0"?><ListBucketResult><Name>${BUCKET}</Name>${contents}<IsTruncated>${more}</IsTruncated>${more ? `<NextContinuationToken>${page.at(-1)}</NextContinuationToken>` : ""}</ListBucketResult>`,
        );
      return;
    }
    if (req.method === "PUT") {
      objects.set(key, { body, modified: new Date() });
      res.writeHead(200).end();
    } else if (req.method === "GET") {
      const o = objects.get(key);
      if (o === undefined) res.writeHead(404).end("<Error><Code>NoSuchKey</Code></Error>");
      else res.writeHead(200, { "Content-Type": "text/plain" }).end(o.body);
    } else if (req.method === "DELETE") {
      objects.delete(key);
      res.writeHead(204).end();
    } else res.writeHead(405).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  objects.clear();
  log.length = 0;
});

const store = (extra: Partial<ConstructorParameters<typeof S3BlobStore>[0]> = {}) =>
  new S3BlobStore({ endpoint, bucket: BUCKET, ...CREDS, ...extra });
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe("S3BlobStore against an S3-compatible server", () => {
  it("stores content-addressed objects and resolves v2 and v3 URNs", async () => {
    const s = store({ backendIndex: 2 });
    const text = "a prompt with ünïcode and / slashes";
    const v3 = await s.put(3, text);
    const v2 = await s.put(2, text);
    expect(v3).toBe(`urn:blob:v3:s3:2:${BUCKET}:${sha(text)}.txt`);
    expect(v2).toBe(`urn:blob:v2:s3:${BUCKET}:${sha(text)}.txt`);
    expect(objects.get(`prompts/${sha(text)}.txt`)?.body).toBe(text);
    // The same content is stored once.
    expect(log.filter((l) => l.startsWith("PUT"))).toHaveLength(1);
    // A fresh store (empty cache) reads it back from the server.
    const other = store();
    expect(await other.get(v3)).toBe(text);
    expect(await other.get(v2)).toBe(text);
    expect(log.filter((l) => l.startsWith("GET"))).toHaveLength(1);
  });

  it("deletes (idempotently); unknown, foreign and other-bucket URNs are BlobNotFoundError", async () => {
    const s = store();
    const urn = await s.put(3, "short-lived");
    await s.delete(urn);
    await s.delete(urn);
    await expect(s.get(urn)).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(s.get(`urn:blob:v3:s3:0:${BUCKET}:${sha("never")}.txt`)).rejects.toBeInstanceOf(
      BlobNotFoundError,
    );
    await expect(s.get(`urn:blob:v3:fs:0:prompts:${sha("x")}.txt`)).rejects.toBeInstanceOf(
      BlobNotFoundError,
    );
    await expect(s.get(`urn:blob:v3:s3:0:other-bucket:${sha("x")}.txt`)).rejects.toBeInstanceOf(
      BlobNotFoundError,
    );
  });

  it("refused credentials and an unreachable endpoint are S3RequestErrors without secrets", async () => {
    const bad = store({ secretAccessKey: "wrong-secret-key" });
    const err = await bad.put(3, "x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3RequestError);
    expect((err as S3RequestError).status).toBe(403);
    expect((err as Error).message).toContain("SignatureDoesNotMatch");
    expect((err as Error).message).not.toContain("wrong-secret-key");
    const down = new S3BlobStore({ endpoint: "http://127.0.0.1:1", bucket: BUCKET, ...CREDS });
    await expect(down.put(3, "x")).rejects.toBeInstanceOf(S3RequestError);
    expect(() => store({ bucket: "Not_A_Bucket" })).toThrow(/bucket/);
  });

  it("sweeps old objects no task claims, following list continuation tokens", async () => {
    const s = store();
    const urns = await Promise.all(["a", "b", "c", "d", "e"].map((x) => s.put(3, `blob ${x}`)));
    const old = new Date(Date.now() - 3600_000);
    for (const o of objects.values()) o.modified = old;
    const fresh = await s.put(3, "fresh one");
    const claimed = `${BUCKET}:${urns[0]?.split(":").at(-1)}`;
    const removed = await s.sweep(60_000, (key) => key === claimed);
    expect(removed).toBe(4);
    expect(await s.get(urns[0] ?? "")).toBe("blob a");
    expect(await store().get(fresh)).toBe("fresh one");
    expect(objects.size).toBe(2);
    expect(log.filter((l) => l.includes("list-type=2")).length).toBeGreaterThanOrEqual(3);
  });

  it("serves a router's v2/v3 prompts: the miner gets the prompt through the URN", async () => {
    const t = await startTestRouter({ blobStore: store() }, 1);
    try {
      const res = await t.post("/api/v3/completions/0", { prompt: "stored in s3", max_tokens: 4 });
      const r = RouterCompletionResponse.parse(await res.json());
      expect(r.usage.completion_tokens).toBe(4);
      const task = (await (await t.get(`/api/v1/tasks/0/${r.task_id}`)).json()) as {
        prompt_urn: string;
      };
      expect(task.prompt_urn).toBe(`urn:blob:v3:s3:0:${BUCKET}:${sha("stored in s3")}.txt`);
      expect(objects.get(`prompts/${sha("stored in s3")}.txt`)?.body).toBe("stored in s3");
      const info = (await (await t.get("/api/v1/info")).json()) as { blob_store: string };
      expect(info.blob_store).toBe("s3");
    } finally {
      await t.close();
    }
  });
});
