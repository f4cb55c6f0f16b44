import { htmlToText } from "./html-to-text.js";

/** How a fetched body becomes prompt text. */
export type ContentKind = "html" | "text";

/** A `Content-Type` header split into its media type (lower case) and charset parameter. */
export function parseContentType(header: string | undefined): { mime: string; charset?: string } {
  const [type = "", ...params] = (header ?? "").split(";");
  const charset = params
    .map((p) => p.trim())
    .find((p) => p.toLowerCase().startsWith("charset="))
    ?.slice("charset=".length)
    .replace(/^"|"$/g, "")
    .trim();
  return {
    mime: type.trim().toLowerCase(),
    ...(charset !== undefined && charset !== "" && { charset }),
  };
}

/**
 * Which content types are read, and how: HTML (text/html, application/xhtml+xml) is reduced to
 * text; other text/* and JSON (application/json, any +json) pass through. Undefined: refused.
 */
export function contentKind(mime: string): ContentKind | undefined {
  if (mime === "text/html" || mime === "application/xhtml+xml") return "html";
  if (mime.startsWith("text/")) return "text";
  if (mime === "application/json" || /^application\/[\w.+-]+\+json$/.test(mime)) return "text";
  return undefined;
}

/**
 * windows-1252's 0x80–0x9F (WHATWG Encoding): what the web means by "latin1", "iso-8859-1" and
 * "us-ascii". Node's TextDecoder decodes those bytes as C1 controls (ISO-8859-1), so they are
 * mapped here; the five bytes windows-1252 leaves undefined stay C1 controls, as in the spec.
 */
const CP1252_C1 =
  "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f" +
  "\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178";

/** Decode bytes with the header's charset when TextDecoder knows it, else UTF-8 (lenient). */
export function decodeBody(bytes: Uint8Array, charset: string | undefined): string {
  if (charset !== undefined) {
    let decoded: { text: string; encoding: string } | undefined;
    try {
      const decoder = new TextDecoder(charset);
      decoded = { text: decoder.decode(bytes), encoding: decoder.encoding };
    } catch {
      // An unknown label (RangeError): fall back to UTF-8, the web's default.
    }
    if (decoded?.encoding === "windows-1252") {
      return decoded.text.replace(
        /[\u0080-\u009f]/g,
        (c: string) => CP1252_C1[c.charCodeAt(0) - 0x80] ?? c,
      );
    }
    if (decoded !== undefined) return decoded.text;
  }
  return new TextDecoder("utf-8").decode(bytes);
}

/** The encoding a byte order mark names, if the body starts with one. */
export function bomCharset(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return "utf-8";
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return "utf-16be";
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return "utf-16le";
  return undefined;
}

/**
 * The charset an HTML page declares in its first 1024 bytes (`<meta charset=…>` or
 * `<meta http-equiv="Content-Type" content="…; charset=…">`), as browsers prescan for it when
 * the header names none. A page claiming UTF-16 in ASCII-compatible bytes is UTF-8 (HTML spec).
 */
export function metaCharset(bytes: Uint8Array): string | undefined {
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 1024));
  for (const [tag] of head.matchAll(/<meta\b[^>]*>/gi)) {
    const content = /\scontent\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(tag);
    const value = content?.[1] ?? content?.[2] ?? content?.[3];
    // `<meta charset=…>`: the attribute itself, looked for outside the content attribute.
    const bare = content ? tag.replace(content[0], " ") : tag;
    const label =
      /\scharset\s*=\s*["']?\s*([\w.:-]+)/i.exec(bare)?.[1] ??
      (/\shttp-equiv\s*=\s*["']?content-type/i.test(tag) && value !== undefined
        ? /charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(value)?.[1]
        : undefined);
    if (label !== undefined) return /^utf-16/i.test(label) ? "utf-8" : label;
  }
  return undefined;
}

/**
 * The prompt text of a fetched body of an accepted kind. The encoding is, in order: a byte
 * order mark, the Content-Type charset, for HTML the page's own `<meta>` declaration, UTF-8.
 */
export function bodyText(bytes: Uint8Array, kind: ContentKind, charset?: string): string {
  const declared =
    bomCharset(bytes) ?? charset ?? (kind === "html" ? metaCharset(bytes) : undefined);
  const text = decodeBody(bytes, declared);
  return kind === "html" ? htmlToText(text) : text;
}
