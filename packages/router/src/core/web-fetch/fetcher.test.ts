import { createHash } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redirect, serve, startWebServer, type TestWebServer } from "../../testing/web-server.js";
import { RouterDomainError, WebFetchFailedError, WebFetchRefusedError } from "../errors.js";
import { HttpWebFetcher } from "./fetcher.js";
import type { Resolver } from "./guarded-lookup.js";
import type { WebFetchPolicy } from "./policy.js";

const HTML = "<html><head><title>x</title></head><body><p>Hello &amp; welcome</p></body></html>";
const sha = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");
/** A body sent with a Content-Encoding, as a server that compresses would. */
const encoded =
  (encoding: string, body: Buffer, type = "text/plain") =>
  (_req: unknown, res: ServerResponse) =>
    void res.writeHead(200, { "content-type": type, "content-encoding": encoding }).end(body);

let web: TestWebServer;
const fetchers: HttpWebFetcher[] = [];

function fetcher(over: Partial<WebFetchPolicy> = {}, resolver?: Resolver): HttpWebFetcher {
  const f = new HttpWebFetcher(
    {
      hosts: ["127.0.0.1", "localhost", "rebind.test"],
      allowPrivate: true,
      timeoutMs: 1000,
      maxBytes: 4096,
      maxUrls: 3,
      ...over,
    },
    resolver === undefined ? {} : { resolver },
  );
  fetchers.push(f);
  return f;
}

async function rejection(p: Promise<unknown>): Promise<RouterDomainError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RouterDomainError);
    return err as RouterDomainError;
  }
  throw new Error("expected the fetch to fail");
}

beforeAll(async () => {
  web = await startWebServer({
    "/page": serve("text/html; charset=utf-8", HTML),
    "/latin1": serve("text/plain; charset=iso-8859-1", Buffer.from([0x63, 0x61, 0x66, 0xe9])),
    "/meta-1252": serve(
      "text/html",
      Buffer.concat([
        Buffer.from('<html><head><meta charset="windows-1252"></head><body><p>caf'),
        Buffer.from([0xe9, 0x20, 0x80]),
        Buffer.from("</p></body></html>"),
      ]),
    ),
    "/r1": redirect("/r2", 301),
    "/r2": redirect("/r3", 307),
    "/r3": redirect("/page", 308),
    "/r0": redirect("/r1"),
    "/away": redirect("http://evil.example/steal"),
    "/nolocation": (_req, res) => void res.writeHead(302).end(),
    "/big-declared": serve("text/plain", "x".repeat(5000)),
    "/big-chunked": (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      for (let i = 0; i < 10; i++) res.write("y".repeat(1000));
      res.end();
    },
    "/stall-body": (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("partial");
    },
    "/stall-headers": () => {},
    "/gzip": encoded("gzip", gzipSync(Buffer.from("zipped café"))),
    "/deflate": encoded("deflate", deflateSync(Buffer.from("deflated"))),
    "/deflate-raw": encoded("deflate", deflateRawSync(Buffer.from("raw deflate"))),
    "/br": encoded("br", brotliCompressSync(Buffer.from("<p>brotli</p>")), "text/html"),
    // 1 MB of zeros compress to ~1 KB: within max_bytes as received, far over it decoded.
    "/bomb": encoded("gzip", gzipSync(Buffer.alloc(1_000_000, 0x61))),
    "/corrupt": encoded("gzip", Buffer.from("not gzip at all")),
    "/zstd": encoded("zstd", Buffer.from("whatever")),
    "/echo-accept": (req, res) =>
      void res
        .writeHead(200, { "content-type": "text/plain" })
        .end(req.headers["accept-encoding"] ?? ""),
  });
});
afterAll(async () => {
  await Promise.all(fetchers.map((f) => f.close()));
  await web.close();
});

describe("HttpWebFetcher — pages", () => {
  it("fetches HTML as text with the evidence of the body as received", async () => {
    const page = await fetcher().fetch(new URL(`${web.origin}/page`));
    expect(page).toEqual({
      url: `${web.origin}/page`,
      finalUrl: `${web.origin}/page`,
      status: 200,
      contentType: "text/html; charset=utf-8",
      bytes: Buffer.byteLength(HTML),
      sha256: sha(HTML),
      text: "Hello & welcome",
    });
  });

  it("decodes with the charset header", async () => {
    expect((await fetcher().fetch(new URL(`${web.origin}/latin1`))).text).toBe("café");
  });

  it("decodes an HTML page by its own <meta charset> when the header names none", async () => {
    const page = await fetcher().fetch(new URL(`${web.origin}/meta-1252`));
    expect(page.text).toBe("café €");
    expect(page.contentType).toBe("text/html");
  });

  it("follows up to 3 redirects (relative locations) and reports the final URL", async () => {
    const page = await fetcher().fetch(new URL(`${web.origin}/r1`));
    expect(page).toMatchObject({ url: `${web.origin}/r1`, finalUrl: `${web.origin}/page` });
  });

  it("fails past 3 redirects, and on a redirect without Location", async () => {
    const e = await rejection(fetcher().fetch(new URL(`${web.origin}/r0`)));
    expect(e).toBeInstanceOf(WebFetchFailedError);
    expect(e.details).toMatchObject({ reason: "too_many_redirects", max_redirects: 3 });
    const n = await rejection(fetcher().fetch(new URL(`${web.origin}/nolocation`)));
    expect(n.details).toMatchObject({ reason: "bad_redirect", status: 302 });
  });

  it("re-checks every hop: a redirect off the allowlist is refused before it is followed", async () => {
    const e = await rejection(fetcher().fetch(new URL(`${web.origin}/away`)));
    expect(e).toBeInstanceOf(WebFetchRefusedError);
    expect(e.details).toMatchObject({
      reason: "host_not_allowed",
      host: "evil.example",
      redirected_from: `${web.origin}/away`,
    });
  });
});

describe("HttpWebFetcher — limits", () => {
  it("refuses a body over max_bytes, declared or streamed", async () => {
    const declared = await rejection(fetcher().fetch(new URL(`${web.origin}/big-declared`)));
    expect(declared.details).toMatchObject({ reason: "too_large", max_bytes: 4096 });
    const chunked = await rejection(fetcher().fetch(new URL(`${web.origin}/big-chunked`)));
    expect(chunked).toBeInstanceOf(WebFetchFailedError);
    expect(chunked.details).toMatchObject({ reason: "too_large" });
  });

  it("times out a server that stalls before or during the body", async () => {
    const f = fetcher({ timeoutMs: 150 });
    for (const path of ["/stall-headers", "/stall-body"]) {
      const e = await rejection(f.fetch(new URL(`${web.origin}${path}`)));
      expect(e.details, path).toMatchObject({ reason: "timeout", timeout_ms: 150 });
    }
  });

  it("asks for gzip, deflate and br and decodes them; counts and hashes the body as received", async () => {
    const accept = await fetcher().fetch(new URL(`${web.origin}/echo-accept`));
    expect(accept.text).toBe("gzip, deflate, br");
    const gz = await fetcher().fetch(new URL(`${web.origin}/gzip`));
    const sent = gzipSync(Buffer.from("zipped café"));
    expect(gz).toMatchObject({ text: "zipped café", bytes: sent.length });
    expect(gz.sha256).toBe(sha(sent));
    expect((await fetcher().fetch(new URL(`${web.origin}/deflate`))).text).toBe("deflated");
    expect((await fetcher().fetch(new URL(`${web.origin}/deflate-raw`))).text).toBe("raw deflate");
    expect((await fetcher().fetch(new URL(`${web.origin}/br`))).text).toBe("brotli");
  });

  it("refuses a body that decodes past max_bytes, a corrupt one and an unread coding", async () => {
    const bomb = await rejection(fetcher().fetch(new URL(`${web.origin}/bomb`)));
    expect(bomb).toBeInstanceOf(WebFetchFailedError);
    expect(bomb.details).toMatchObject({ reason: "too_large", max_bytes: 4096 });
    const corrupt = await rejection(fetcher().fetch(new URL(`${web.origin}/corrupt`)));
    expect(corrupt.details).toMatchObject({ reason: "content_encoding", encoding: "gzip" });
    expect(corrupt.message).toContain("corrupt");
    const zstd = await rejection(fetcher().fetch(new URL(`${web.origin}/zstd`)));
    expect(zstd.details).toMatchObject({ reason: "content_encoding", encoding: "zstd" });
  });

  it("reports a refused connection as a network failure with the code only", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((r) => closed.close(() => r()));
    const e = await rejection(fetcher().fetch(new URL(`http://127.0.0.1:${port}/`)));
    expect(e).toBeInstanceOf(WebFetchFailedError);
    expect(e.details).toMatchObject({ reason: "network", error: "ECONNREFUSED" });
  });
});

describe("HttpWebFetcher — addresses at connect time", () => {
  it("refuses a name that resolves to loopback (real DNS: localhost) unless allow_private", async () => {
    const url = new URL(`http://localhost:${web.port}/page`);
    const e = await rejection(fetcher({ allowPrivate: false }).fetch(url));
    expect(e).toBeInstanceOf(WebFetchRefusedError);
    expect(e.details).toMatchObject({ reason: "private_address", host: "localhost" });
    expect(e.message).not.toMatch(/127\.0\.0\.1|::1/);
    expect((await fetcher({ allowPrivate: true }).fetch(url)).text).toBe("Hello & welcome");
  });

  it("checks the address the socket connects to, so a rebinding name cannot slip past", async () => {
    // The name passes the URL check (it is allowlisted and not an IP literal); only the
    // connect-time lookup sees that it now points at 127.0.0.1.
    const rebinding: Resolver = (_host, _opts, cb) =>
      cb(null, [{ address: "127.0.0.1", family: 4 }]);
    const url = new URL(`http://rebind.test:${web.port}/page`);
    const e = await rejection(fetcher({ allowPrivate: false }, rebinding).fetch(url));
    expect(e.details).toMatchObject({
      reason: "private_address",
      host: "rebind.test",
      address_class: "loopback",
    });
  });
});
