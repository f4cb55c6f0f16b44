import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSse, type SseItem } from "./sse-parse.js";

async function collect(parts: string[]): Promise<SseItem[]> {
  const enc = new TextEncoder();
  async function* gen() {
    for (const p of parts) yield enc.encode(p);
  }
  const out: SseItem[] = [];
  for await (const item of parseSse(gen())) out.push(item);
  return out;
}

describe("parseSse", () => {
  it("parses data events, comments, event names and [DONE]", async () => {
    const items = await collect([
      ': keep-alive\n\ndata: {"a":1}\n\nevent: x\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n',
    ]);
    expect(items).toEqual([
      { kind: "comment", text: "keep-alive" },
      { kind: "event", event: null, data: '{"a":1}' },
      { kind: "event", event: "x", data: "line1\nline2" },
      { kind: "event", event: null, data: "[DONE]" },
    ]);
  });

  it("handles CRLF and CR line endings and a missing final blank line", async () => {
    expect(await collect(["data: a\r\n\r\ndata: b\r\rdata: c"])).toEqual([
      { kind: "event", event: null, data: "a" },
      { kind: "event", event: null, data: "b" },
      { kind: "event", event: null, data: "c" },
    ]);
  });

  it("gives the same events however the bytes are split", async () => {
    const stream =
      'data: {"t":"héllo wörld"}\r\n\r\n: ping\n\ndata: x\ndata: y\n\ndata: [DONE]\n\n';
    const whole = await collect([stream]);
    const bytes = new TextEncoder().encode(stream);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 }),
        async (cuts) => {
          const points = [...new Set(cuts)].sort((a, b) => a - b);
          const chunks: Uint8Array[] = [];
          let last = 0;
          for (const p of [...points, bytes.length]) {
            chunks.push(bytes.slice(last, p));
            last = p;
          }
          const out: SseItem[] = [];
          async function* gen() {
            yield* chunks;
          }
          for await (const item of parseSse(gen())) out.push(item);
          expect(out).toEqual(whole);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("refuses an unbounded event", async () => {
    const huge = `data: ${"x".repeat(5 * 1024 * 1024)}`;
    await expect(collect([huge, "\n\n"])).rejects.toThrow("too");
  });
});
