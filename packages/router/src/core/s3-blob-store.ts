import { createHash, createHmac } from "node:crypto";
import { BlobNotFoundError, type BlobStore, makeUrn, parseUrn, RecentBlobs } from "./blob-store.js";
import { sha256Hex } from "./tokens.js";

/** Credentials of an S3-compatible service (AWS S3, MinIO, Cloudflare R2, Akamai/Linode…). */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** For temporary credentials (sent as x-amz-security-token). */
  sessionToken?: string | undefined;
}

export interface S3BlobStoreOptions extends S3Credentials {
  /** Service endpoint, e.g. `https://s3.us-east-1.amazonaws.com` or `http://127.0.0.1:9000`. */
  endpoint: string;
  bucket: string;
  /** SigV4 region (default `us-east-1`, which MinIO and most compatible services accept). */
  region?: string;
  /** Object key prefix (default `prompts/`). */
  prefix?: string;
  /** `{bucket}.{host}` addressing instead of the default path style `{host}/{bucket}`. */
  virtualHosted?: boolean;
  /** `backend_index` in v3 URNs (default 0). */
  backendIndex?: number;
  /** Characters of recent blobs kept in memory, so a miner's fetch right after a put skips S3. */
  cacheChars?: number;
  /** Injected for tests; default the global fetch. */
  fetch?: typeof fetch;
}

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters is %XX. */
function awsEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const hmac = (key: Buffer | string, data: string): Buffer =>
  createHmac("sha256", key).update(data, "utf8").digest();

/** What a SigV4 request signs. */
export interface S3SignInput {
  method: string;
  url: URL;
  region: string;
  /** Hex sha256 of the body (or `UNSIGNED-PAYLOAD`). */
  payloadHash: string;
  /** Extra headers to sign and send (names any case). */
  headers?: Record<string, string>;
  now: Date;
}

/**
 * AWS Signature Version 4 headers for an S3 request (header-based auth): `authorization`,
 * `x-amz-date`, `x-amz-content-sha256` (and `x-amz-security-token`), plus the given headers.
 * `host` is signed but not returned: fetch sends it from the URL.
 */
export function signS3Request(input: S3SignInput, creds: S3Credentials): Record<string, string> {
  const amzDate = input.now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers ?? {})) headers[k.toLowerCase()] = v;
  headers["x-amz-date"] = amzDate;
  headers["x-amz-content-sha256"] = input.payloadHash;
  if (creds.sessionToken !== undefined) headers["x-amz-security-token"] = creds.sessionToken;
  const signed: Record<string, string> = { ...headers, host: input.url.host };
  const names = Object.keys(signed).sort();
  const canonicalHeaders = names
    .map((n) => `${n}:${(signed[n] ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const canonicalUri = input.url.pathname
    .split("/")
    .map((seg) => awsEncode(decodeURIComponent(seg)))
    .join("/");
  const canonicalQuery = [...input.url.searchParams.entries()]
    .map(([k, v]) => [awsEncode(k), awsEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonicalRequest = [
    input.method.toUpperCase(),
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    names.join(";"),
    input.payloadHash,
  ].join("\n");
  const scope = `${day}/${input.region}/s3/aws4_request`;
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    amzDate,
    scope,
    createHash("sha256").update(canonicalRequest, "utf8").digest("hex"),
  ].join("\n");
  const key = hmac(
    hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), input.region), "s3"),
    "aws4_request",
  );
  const signature = createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
  return headers;
}

/** The S3 service answered an error (never carries credentials). */
export class S3RequestError extends Error {
  override name = "S3RequestError";
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const xmlText = (s: string): string =>
  s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");

/**
 * Content-addressed blobs in an S3-compatible bucket: `{prefix}{sha256}.txt`, URNs
 * `urn:blob:v2:s3:{bucket}:{file}` / `urn:blob:v3:s3:{backend_index}:{bucket}:{file}`. `put`
 * resolves once the object is stored; recent blobs are also kept in memory, so the miner's fetch
 * right after a put does not go back to S3.
 */
export class S3BlobStore implements BlobStore {
  readonly bucket: string;
  private readonly prefix: string;
  private readonly region: string;
  private readonly base: URL;
  private readonly recent: RecentBlobs;
  private readonly fetchFn: typeof fetch;
  private readonly backendIndex: number;

  constructor(private readonly opts: S3BlobStoreOptions) {
    if (!BUCKET_RE.test(opts.bucket)) {
      throw new Error(`invalid S3 bucket name: ${JSON.stringify(opts.bucket)}`);
    }
    this.bucket = opts.bucket;
    this.prefix = opts.prefix ?? "prompts/";
    this.region = opts.region ?? "us-east-1";
    this.backendIndex = opts.backendIndex ?? 0;
    const endpoint = new URL(opts.endpoint);
    if (opts.virtualHosted === true) endpoint.hostname = `${opts.bucket}.${endpoint.hostname}`;
    this.base = endpoint;
    this.recent = new RecentBlobs(opts.cacheChars ?? 32 * 1024 * 1024);
    this.fetchFn = opts.fetch ?? fetch;
  }

  /** The URL of an object key; `""` is the bucket itself (for listing). */
  private url(key: string, query: Record<string, string> = {}): URL {
    const vhost = this.opts.virtualHosted === true;
    const path =
      key === "" ? (vhost ? "/" : `/${this.bucket}`) : vhost ? `/${key}` : `/${this.bucket}/${key}`;
    const url = new URL(
      `${this.base.pathname.replace(/\/$/, "")}${path.split("/").map(awsEncode).join("/")}`,
      this.base,
    );
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return url;
  }

  private async send(
    method: string,
    url: URL,
    body?: string,
    extra: Record<string, string> = {},
  ): Promise<Response> {
    const payloadHash = body === undefined ? EMPTY_SHA256 : sha256Hex(body);
    const headers = signS3Request(
      { method, url, region: this.region, payloadHash, headers: extra, now: new Date() },
      this.opts,
    );
    try {
      return await this.fetchFn(url, { method, headers, ...(body !== undefined && { body }) });
    } catch (err) {
      throw new S3RequestError(`S3 ${method} ${url.pathname} failed: ${(err as Error).message}`, 0);
    }
  }

  private async fail(method: string, url: URL, res: Response): Promise<never> {
    const text = await res.text().catch(() => "");
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? "";
    throw new S3RequestError(
      `S3 ${method} ${url.pathname} answered ${res.status}${code === "" ? "" : ` ${code}`}`,
      res.status,
    );
  }

  async put(version: 2 | 3, content: string): Promise<string> {
    const file = `${sha256Hex(content)}.txt`;
    const urn = makeUrn(version, "s3", file, this.bucket, this.backendIndex);
    if (this.recent.get(file) === content) return urn;
    const url = this.url(`${this.prefix}${file}`);
    const res = await this.send("PUT", url, content, {
      "content-type": "text/plain; charset=utf-8",
    });
    if (!res.ok) await this.fail("PUT", url, res);
    await res.body?.cancel();
    this.recent.set(file, content);
    return urn;
  }

  async get(urn: string): Promise<string> {
    const { bucket, file } = parseUrn(urn, "s3");
    if (bucket !== this.bucket) throw new BlobNotFoundError(`blob not in this bucket: ${urn}`);
    const cached = this.recent.get(file);
    if (cached !== undefined) return cached;
    const url = this.url(`${this.prefix}${file}`);
    const res = await this.send("GET", url);
    if (res.status === 404) {
      await res.body?.cancel();
      throw new BlobNotFoundError(`blob not found: ${urn}`);
    }
    if (!res.ok) await this.fail("GET", url, res);
    const content = await res.text();
    this.recent.set(file, content);
    return content;
  }

  async delete(urn: string): Promise<void> {
    const { bucket, file } = parseUrn(urn, "s3");
    if (bucket !== this.bucket) return;
    this.recent.delete(file);
    const url = this.url(`${this.prefix}${file}`);
    const res = await this.send("DELETE", url);
    if (!res.ok && res.status !== 404) await this.fail("DELETE", url, res);
    await res.body?.cancel();
  }

  async sweep(maxAgeMs: number, isLive: (key: string) => boolean): Promise<number> {
    const cutoff = Date.now() - maxAgeMs;
    let removed = 0;
    const doomed: string[] = [];
    let token: string | undefined;
    do {
      const url = this.url("", {
        "list-type": "2",
        prefix: this.prefix,
        ...(token !== undefined && { "continuation-token": token }),
      });
      const res = await this.send("GET", url);
      if (!res.ok) await this.fail("GET", url, res);
      const xml = await res.text();
      for (const [, entry] of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const key = xmlText(/<Key>([^<]*)<\/Key>/.exec(entry ?? "")?.[1] ?? "");
        const modified = Date.parse(
          /<LastModified>([^<]*)<\/LastModified>/.exec(entry ?? "")?.[1] ?? "",
        );
        const file = key.slice(this.prefix.length);
        if (!key.startsWith(this.prefix) || !/^[0-9a-f]{64}\.txt$/.test(file)) continue;
        if (!Number.isFinite(modified) || modified > cutoff) continue;
        if (!isLive(`${this.bucket}:${file}`)) doomed.push(file);
      }
      const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
      const next = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1];
      token = truncated && next !== undefined ? xmlText(next) : undefined;
    } while (token !== undefined);
    // Deleted after the listing, so servers whose tokens are positions do not skip objects.
    for (const file of doomed) {
      if (isLive(`${this.bucket}:${file}`)) continue; // claimed while we listed
      await this.delete(makeUrn(3, "s3", file, this.bucket, this.backendIndex));
      removed += 1;
    }
    return removed;
  }
}
