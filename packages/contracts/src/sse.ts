/** One server-sent event, or a comment line (`: keep-alive`). */
export type SseItem =
  | { kind: "event"; event: string | null; data: string }
  | { kind: "comment"; text: string };

const MAX_EVENT_BYTES = 4 * 1024 * 1024;

/**
 * Parse a byte stream as server-sent events (WHATWG framing: LF, CRLF or CR line ends, blank
 * line ends an event, `data:` lines joined with "\n"). Comments are surfaced so callers can
 * relay keep-alives. An event larger than 4 MiB is an error, not a memory leak.
 */
export async function* parseSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseItem> {
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  let event: string | null = null;
  let size = 0;
  const flushLine = function* (line: string): Generator<SseItem> {
    if (line === "") {
      if (data.length > 0) yield { kind: "event", event, data: data.join("\n") };
      data = [];
      event = null;
      size = 0;
      return;
    }
    if (line.startsWith(":")) {
      yield { kind: "comment", text: line.slice(1).trim() };
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") {
      size += value.length;
      if (size > MAX_EVENT_BYTES) throw new Error("SSE event too large");
      data.push(value);
    } else if (field === "event") {
      event = value;
    }
  };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    if (buffer.length > MAX_EVENT_BYTES * 2) throw new Error("SSE line too long");
    let match = /\r\n|\n|\r/.exec(buffer);
    while (match) {
      // A lone CR at the very end may be the first half of CRLF: wait for more bytes.
      if (match[0] === "\r" && match.index === buffer.length - 1) break;
      const line = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      yield* flushLine(line);
      match = /\r\n|\n|\r/.exec(buffer);
    }
  }
  buffer += decoder.decode();
  if (buffer.length > 0) yield* flushLine(buffer);
  yield* flushLine("");
}
