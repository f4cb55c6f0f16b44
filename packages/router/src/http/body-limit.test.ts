import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fastBodyLimit } from "./body-limit.js";

class TooLarge extends Error {}

// Served over real HTTP: the point is how @hono/node-server's request is read.
const app = new Hono();
app.use(
  "*",
  fastBodyLimit({
    maxSize: 16,
    onError: () => {
      throw new TooLarge("too large");
    },
  }),
);
app.post("/echo", async (c) => c.text(`got ${(await c.req.text()).length}`));
app.get("/echo", (c) => c.text("get"));
app.onError((err, c) => (err instanceof TooLarge ? c.text("413", 413) : c.text("500", 500)));

let server: ReturnType<typeof serve>;
let port = 0;
beforeAll(async () => {
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info: AddressInfo) => {
      port = info.port;
      resolve();
    });
  });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** POST `chunks`; with `chunked` the body goes without Content-Length. */
function post(chunks: string[], chunked: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const total = chunks.join("");
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        path: "/echo",
        method: "POST",
        headers: chunked ? {} : { "content-length": Buffer.byteLength(total) },
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => {
          body += d.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe("fastBodyLimit", () => {
  it("passes bodies within the limit, with and without Content-Length", async () => {
    expect(await post(["0123456789abcdef"], false)).toEqual({ status: 200, body: "got 16" });
    expect(await post(["0123", "4567"], true)).toEqual({ status: 200, body: "got 8" });
  });

  it("refuses a declared Content-Length over the limit", async () => {
    expect((await post(["0123456789abcdefX"], false)).status).toBe(413);
  });

  it("counts chunked bodies and refuses one that grows past the limit", async () => {
    expect((await post(["0123456789", "abcdefXYZ"], true)).status).toBe(413);
  });

  it("lets bodyless methods through untouched", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/echo`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("get");
  });
});
