/**
 * Server-sent events from a fetch body (WHATWG framing: LF, CRLF or CR line ends, a blank line
 * ends an event, `data:` lines joined with "\n"). Comments (`: keep-alive`) are skipped. Works on
 * any `ReadableStream<Uint8Array>`, so in Node 18+ and browsers alike.
 */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  const line = (text: string): string | null => {
    if (text === "") {
      const event = data.length > 0 ? data.join("\n") : null;
      data = [];
      return event;
    }
    if (text.startsWith(":")) return null;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    return null;
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let match = /\r\n|\n|\r/.exec(buffer);
      while (match) {
        // A CR at the very end may be the first half of CRLF: wait for the next bytes.
        if (!done && match[0] === "\r" && match.index === buffer.length - 1) break;
        const event = line(buffer.slice(0, match.index));
        buffer = buffer.slice(match.index + match[0].length);
        if (event !== null) yield event;
        match = /\r\n|\n|\r/.exec(buffer);
      }
      if (done) break;
    }
    const last = line(buffer);
    if (last !== null) yield last;
    const tail = line("");
    if (tail !== null) yield tail;
  } finally {
    // Leaving the loop early (break in for-await) cancels the request.
    await reader.cancel().catch(() => {});
  }
}
