import { describe, expect, it } from "vitest";
import {
  bodyText,
  bomCharset,
  contentKind,
  decodeBody,
  metaCharset,
  parseContentType,
} from "./content.js";
import { decodeEntities, htmlToText } from "./html-to-text.js";

describe("htmlToText", () => {
  it("drops head, script, style, noscript, template and comments; keeps the body text", () => {
    const html = `<!doctype html><html><head><title>T</title><style>p{color:red}</style>
      <script>var secret = "x";</script></head>
      <body><!-- a comment --><h1>Router  notes</h1><p>First <b>bold</b> line.</p>
      <noscript>enable JS</noscript><script type="module">alert(1)</script>
      <template><p>hidden</p></template><header>Top</header><ul><li>one</li><li>two</li></ul>
      </body></html>`;
    expect(htmlToText(html)).toBe("Router notes\nFirst bold line.\nTop\none\ntwo");
  });

  it("decodes entities after stripping tags, so escaped markup stays text", () => {
    expect(htmlToText("<p>a &lt;script&gt;x&lt;/script&gt; &amp; b</p>")).toBe(
      "a <script>x</script> & b",
    );
    expect(
      htmlToText("<p>&quot;q&quot; &#39;s&#39; &nbsp;x&nbsp;&nbsp;y &#65;&#x42;&#X43;</p>"),
    ).toBe(`"q" 's' x y ABC`);
  });

  it("collapses whitespace and blank lines", () => {
    expect(htmlToText("<div>\n\n  a \t  b  </div>\n\n\n<div>c</div><br><br>")).toBe("a b\nc");
  });

  it("drops an unclosed script to the end and leaves a bare < alone", () => {
    expect(htmlToText("<p>1 < 2</p><script>never closed")).toBe("1 < 2");
  });

  it("does not confuse <header> with <head>", () => {
    expect(htmlToText("<header>keep</header>")).toBe("keep");
  });
});

describe("decodeEntities", () => {
  it("decodes the common named and numeric entities, leaves unknown ones", () => {
    expect(
      decodeEntities("&amp;&lt;&gt;&quot;&#39;&apos;&nbsp;&#8364;&#x1F600;&copy;&bogus;"),
    ).toBe("&<>\"'' €😀&copy;&bogus;");
  });

  it("turns invalid code points into U+FFFD", () => {
    expect(decodeEntities("&#0;&#xD800;&#x110000;")).toBe("\uFFFD\uFFFD\uFFFD");
  });
});

describe("content types and decoding", () => {
  it("parses the media type and charset", () => {
    expect(parseContentType("Text/HTML; Charset=ISO-8859-1")).toEqual({
      mime: "text/html",
      charset: "ISO-8859-1",
    });
    expect(parseContentType('application/json; charset="utf-8"')).toEqual({
      mime: "application/json",
      charset: "utf-8",
    });
    expect(parseContentType(undefined)).toEqual({ mime: "" });
  });

  it("reads HTML, text/* and JSON; refuses the rest", () => {
    expect(contentKind("text/html")).toBe("html");
    expect(contentKind("application/xhtml+xml")).toBe("html");
    expect(contentKind("text/plain")).toBe("text");
    expect(contentKind("text/markdown")).toBe("text");
    expect(contentKind("application/json")).toBe("text");
    expect(contentKind("application/ld+json")).toBe("text");
    for (const m of [
      "application/pdf",
      "image/png",
      "application/octet-stream",
      "",
      "application/xml",
    ]) {
      expect(contentKind(m), m).toBeUndefined();
    }
  });

  it("decodes with a known charset, else UTF-8", () => {
    const latin1 = Uint8Array.from([0x63, 0x61, 0x66, 0xe9]); // "café" in ISO-8859-1
    expect(decodeBody(latin1, "iso-8859-1")).toBe("café");
    const utf8 = new TextEncoder().encode("café");
    expect(decodeBody(utf8, undefined)).toBe("café");
    expect(decodeBody(utf8, "no-such-charset")).toBe("café");
    // "latin1" on the web is windows-1252: 0x80 is the euro sign, 0x93/0x94 curly quotes.
    const cp1252 = Uint8Array.from([0x80, 0x20, 0x93, 0x61, 0x94, 0x20, 0x81]);
    for (const label of ["iso-8859-1", "latin1", "windows-1252", "us-ascii"]) {
      expect(decodeBody(cp1252, label), label).toBe("\u20ac \u201ca\u201d \u0081");
    }
    expect(bodyText(new TextEncoder().encode("<p>a&amp;b</p>"), "html")).toBe("a&b");
    expect(bodyText(new TextEncoder().encode('{"a": "<b>"}'), "text")).toBe('{"a": "<b>"}');
  });

  const bytes = (...parts: Array<string | number[]>) =>
    Buffer.concat(
      parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))),
    );

  it("reads the charset an HTML page declares in its first 1024 bytes", () => {
    expect(metaCharset(bytes('<html><head><meta charset="windows-1252">'))).toBe("windows-1252");
    expect(metaCharset(bytes("<META CHARSET=Shift_JIS>"))).toBe("Shift_JIS");
    expect(
      metaCharset(
        bytes('<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-2">'),
      ),
    ).toBe("ISO-8859-2");
    // A content attribute without http-equiv declares nothing; nor does a meta past 1024 bytes.
    expect(metaCharset(bytes('<meta name="x" content="charset=koi8-r">'))).toBeUndefined();
    expect(metaCharset(bytes(" ".repeat(1100), '<meta charset="koi8-r">'))).toBeUndefined();
    // UTF-16 cannot be declared by ASCII bytes: such pages are UTF-8 (HTML spec).
    expect(metaCharset(bytes('<meta charset="utf-16">'))).toBe("utf-8");
    expect(bomCharset(bytes([0xef, 0xbb, 0xbf], "x"))).toBe("utf-8");
    expect(bomCharset(bytes([0xff, 0xfe], "x"))).toBe("utf-16le");
    expect(bomCharset(bytes("x"))).toBeUndefined();
  });

  it("decodes by BOM, then the header's charset, then the page's meta, then UTF-8", () => {
    const page = (meta: string) => bytes(`<head>${meta}</head><p>caf`, [0xe9], "</p>");
    expect(bodyText(page('<meta charset="windows-1252">'), "html")).toBe("café");
    // The header outranks the page's own declaration, as in browsers.
    const utf8Page = Buffer.from('<meta charset="windows-1252"><p>café</p>', "utf8");
    expect(bodyText(utf8Page, "html", "utf-8")).toBe("café");
    // A BOM outranks the header.
    const bom = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("<p>é</p>", "utf16le")]);
    expect(bodyText(bom, "html", "iso-8859-1")).toBe("é");
    // A plain-text body's markup is not a declaration.
    expect(bodyText(page('<meta charset="windows-1252">'), "text")).toContain("caf\ufffd");
  });
});
