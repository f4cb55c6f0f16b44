import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fastBodyLimit } from "./body-limit.js";
import { createFetchServer } from "./fetch-server.js";

// A small app in the gateway's order: the key is checked from the headers, the size from
// Content-Length, and only then is the body read.
const app = new Hono();
app.use(
  fastBodyLimit({
    maxSize: 1024,
    onError: () => {
      throw new HTTPException(413, { message: "too large" });
    },
  }),
);
app.post("/echo", async (c) => {
  if (c.req.header("x-key") !== "good") return c.text("no key", 401);
  return c.text(`read ${(await c.req.text()).length}`);
});

let server: ReturnType<typeof createFetchServer>;
let port: number;
beforeAll(async () => {
  server = createFetchServer(app.fetch, () => new Response("bad", { status: 400 }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/**
 * Send the head of a request with `Expect: 100-continue`, send the body only once the server
 * answers `100 Continue`, and return the status lines received, whether the body went out, and
 * the last answer's body.
 */
function expectContinue(
  headers: string,
  body: string,
): Promise<{ statuses: string[]; sentBody: boolean; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () =>
      socket.write(
        `POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\n${headers}\r\n`,
      ),
    );
    let data = "";
    let sentBody = false;
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      data += d;
      if (!sentBody && data.startsWith("HTTP/1.1 100 Continue\r\n\r\n")) {
        sentBody = true;
        socket.write(body);
      }
    });
    socket.on("end", () => {
      const statuses = data.split("\r\n").filter((line) => line.startsWith("HTTP/1.1 "));
      resolve({ statuses, sentBody, text: data.slice(data.lastIndexOf("\r\n\r\n") + 4) });
    });
    socket.on("error", reject);
    setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer: ${JSON.stringify(data)}`));
    }, 5_000).unref();
  });
}

describe("Expect: 100-continue", () => {
  it("a request the app reads gets 100 Continue, then its answer", async () => {
    const r = await expectContinue("x-key: good\r\nContent-Length: 5\r\n", "hello");
    expect(r).toEqual({
      statuses: ["HTTP/1.1 100 Continue", "HTTP/1.1 200 OK"],
      sentBody: true,
      text: "read 5",
    });
  });

  it("a key refused from the headers is the only answer: no 100, no upload", async () => {
    const r = await expectContinue("x-key: bad\r\nContent-Length: 5\r\n", "hello");
    expect(r).toEqual({ statuses: ["HTTP/1.1 401 Unauthorized"], sentBody: false, text: "no key" });
  });

  it("a Content-Length over the limit is refused before the body is sent", async () => {
    const r = await expectContinue("x-key: good\r\nContent-Length: 4096\r\n", "x");
    expect(r.statuses).toEqual(["HTTP/1.1 413 Payload Too Large"]);
    expect(r.sentBody).toBe(false);
  });
});
