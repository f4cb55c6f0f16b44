import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH, startTestRouter, type TestRouter } from "../testing/harness.js";

// A client that hung up halfway through its body was logged as "unhandled router error" and
// answered as a 500, on public routes too. Now it is a client abort (499, nothing logged as an
// error) and the node keeps serving.

let t: TestRouter;
const errors: unknown[] = [];
beforeAll(async () => {
  t = await startTestRouter({}, 1);
  const logger = t.node.core.logger;
  const original = logger.error.bind(logger);
  logger.error = ((...args: unknown[]) => {
    errors.push(args);
    return (original as (...a: unknown[]) => void)(...args);
  }) as typeof logger.error;
});
afterAll(() => t.close());

function hangUpMidBody(path: string) {
  return new Promise<void>((resolve) => {
    const url = new URL(t.node.url);
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: ${AUTH.Authorization}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"prompt"`,
      );
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 100);
    });
  });
}

describe("a client that hangs up mid-body", () => {
  it("is no router error, and the node keeps serving", async () => {
    for (const path of ["/api/v1/completions", "/api/v3/offchain/result", "/api/v1/a2a"]) {
      await hangUpMidBody(path);
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(errors).toEqual([]);
    const res = await t.post("/api/v1/completions", { prompt: "still up", max_tokens: 2 });
    expect(res.status).toBe(200);
  });
});
