/**
 * HTML reduced to readable text for a worker prompt. Not a full HTML parser: it drops what is
 * never content (script, style, noscript, template, head, comments), breaks lines at block
 * elements, strips the remaining tags, decodes the common entities and collapses whitespace.
 * Entities are decoded last, so `&lt;script&gt;` in a page survives as the text `<script>`.
 */

const NAMED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
};

/** Elements whose whole content is dropped; an unclosed one runs to the end of the page. */
const DROPPED = ["script", "style", "noscript", "template", "head"];
const BLOCK =
  /<\/?(?:address|article|aside|blockquote|br|dd|details|div|dl|dt|fieldset|figcaption|figure|footer|form|h[1-6]|header|hr|li|main|nav|ol|p|pre|section|summary|table|tbody|td|tfoot|th|thead|tr|ul)\b[^>]*>/gi;

function codePoint(n: number): string {
  const valid = n > 0 && n <= 0x10ffff && (n < 0xd800 || n > 0xdfff);
  return valid ? String.fromCodePoint(n) : "\uFFFD";
}

/** Decode `&amp; &lt; &gt; &quot; &#39; &apos; &nbsp;`, `&#NN;` and `&#xHH;`; others stay as written. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,7}|[a-zA-Z]+);/g, (whole, body: string) => {
    if (body.startsWith("#x") || body.startsWith("#X")) {
      return codePoint(Number.parseInt(body.slice(2), 16));
    }
    if (body.startsWith("#")) return codePoint(Number.parseInt(body.slice(1), 10));
    return NAMED[body.toLowerCase()] ?? whole;
  });
}

/** The readable text of an HTML document. */
export function htmlToText(html: string): string {
  let s = html.replace(/<!--[\s\S]*?(?:-->|$)/g, " ");
  for (const tag of DROPPED) {
    s = s.replace(new RegExp(`<${tag}\\b[^>]*>[\\s\\S]*?(?:<\\/${tag}\\s*>|$)`, "gi"), " ");
  }
  s = s
    .replace(BLOCK, "\n")
    .replace(/<\/?[a-zA-Z][^>]*>/g, " ")
    .replace(/<![^>]*>|<\?[^>]*>/g, " ");
  return decodeEntities(s)
    .split("\n")
    .map((line) => line.replace(/[\s\u00a0]+/g, " ").trim())
    .filter((line) => line !== "")
    .join("\n");
}
