import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { Hono } from "hono";
import type { AppEnv } from "../../types.js";

const HTML = "text/html; charset=utf-8";
const TYPES: Record<string, string> = {
  ".html": HTML,
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

// The web app talks to our own origin only; nothing may frame it.
const SECURITY_HEADERS = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
  "X-Frame-Options": "DENY",
};

async function readIfFile(file: string): Promise<Buffer | null> {
  try {
    if (!(await stat(file)).isFile()) return null;
    return await readFile(file);
  } catch {
    return null;
  }
}

/**
 * Serves the built web app (Vite output, base `/portal/`) at /portal/* and /admin/*: real files
 * when they exist, index.html for every other path so the client-side router takes over.
 * The JSON APIs are mounted before this, so /portal/api/* never falls through to here.
 */
export const webApp = new Hono<AppEnv>().get("*", async (c) => {
  const dir = c.get("services").config.portalWebDir;
  if (!dir) {
    return c.text("The Portal web app is not served by this gateway (no build configured).", 404);
  }
  const root = path.resolve(dir);
  // Hono has already percent-decoded the path (leaving malformed escapes such as `%zz` as they
  // are); decoding again threw URIError on those, a 500.
  const rel = c.req.path.replace(/^\/(portal|admin)\/?/, "");
  const file = path.resolve(root, rel);
  // Only files inside the build directory, and only under /portal/ (assets live there).
  if (rel !== "" && file.startsWith(`${root}${path.sep}`) && c.req.path.startsWith("/portal/")) {
    const body = await readIfFile(file);
    if (body) {
      const immutable = rel.startsWith("assets/");
      return c.body(new Uint8Array(body), 200, {
        "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream",
        "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
        ...SECURITY_HEADERS,
      });
    }
    if (rel.startsWith("assets/")) return c.text("Not found", 404);
  }
  const index = await readIfFile(path.join(root, "index.html"));
  if (!index) {
    return c.text(
      "The Portal web app has not been built yet. Run `npm run build -w @portal/web` (npm start does it).",
      503,
    );
  }
  return c.body(new Uint8Array(index), 200, {
    "Content-Type": HTML,
    "Cache-Control": "no-cache",
    ...SECURITY_HEADERS,
  });
});
