import { promisify } from "node:util";
import zlib from "node:zlib";

/** Content codings the fetcher asks for and reads (RFC 9110 §8.4.1). */
export const ACCEPTED_ENCODINGS = "gzip, deflate, br";

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);
const brotli = promisify(zlib.brotliDecompress);

/** Why a body could not be decoded: an unread coding, too large once decoded, or corrupt. */
export class BodyDecodeError extends Error {
  constructor(
    readonly reason: "content_encoding" | "too_large",
    message: string,
  ) {
    super(message);
    this.name = "BodyDecodeError";
  }
}

/**
 * Undo the `Content-Encoding` of a body read as received. At most `maxBytes` come out: a body
 * that decodes to more is refused, never truncated, so a small compressed body cannot expand
 * into a large one (zlib stops at `maxOutputLength`). Decoding runs on the thread pool.
 */
export async function decodeContent(
  raw: Buffer,
  encodingHeader: string | undefined,
  maxBytes: number,
): Promise<Buffer> {
  const coding = (encodingHeader ?? "").trim().toLowerCase();
  if (coding === "" || coding === "identity") return raw;
  const opts = { maxOutputLength: maxBytes };
  const attempt = async (run: () => Promise<Buffer>): Promise<Buffer> => {
    try {
      return await run();
    } catch (err) {
      if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE" || err instanceof RangeError) {
        throw new BodyDecodeError(
          "too_large",
          `the body is larger than ${maxBytes} bytes once decoded (web_fetch.max_bytes)`,
        );
      }
      throw new BodyDecodeError("content_encoding", `the ${coding} body is corrupt`);
    }
  };
  switch (coding) {
    case "gzip":
    case "x-gzip":
      return attempt(() => gunzip(raw, opts));
    case "deflate":
      // "deflate" is zlib-wrapped by the spec; some servers send it raw.
      return attempt(() =>
        inflate(raw, opts).catch((err: { code?: string }) => {
          if (err.code === "ERR_BUFFER_TOO_LARGE") throw err;
          return inflateRaw(raw, opts);
        }),
      );
    case "br":
      return attempt(() => brotli(raw, opts));
    default:
      throw new BodyDecodeError("content_encoding", `content encoding ${coding} is not read`);
  }
}
