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

/** Decode bytes with the header's charset when TextDecoder knows it, else UTF-8 (lenient). */
export function decodeBody(bytes: Uint8Array, charset: string | undefined): string {
  if (charset !== undefined) {
    try {
      return new TextDecoder(charset).decode(bytes);
    } catch {
      // An unknown label (RangeError): fall back to UTF-8, the web's default.
    }
  }
  return new TextDecoder("utf-8").decode(bytes);
}

/** The prompt text of a fetched body of an accepted kind. */
export function bodyText(bytes: Uint8Array, kind: ContentKind, charset?: string): string {
  const text = decodeBody(bytes, charset);
  return kind === "html" ? htmlToText(text) : text;
}
