import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { Hono } from "hono";
import { registerConsolePaths } from "../../openapi/console-paths.js";
import { buildOpenApiDocument } from "../../openapi/document.js";
import type { AppEnv } from "../../types.js";

// swagger-ui-dist ships the interactive reference as static files; serving them ourselves keeps
// /docs working without any CDN.
const swaggerDir = path.dirname(
  createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"),
);
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>Portal API reference</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
  <link rel="icon" href="/docs/assets/favicon-32x32.png" />
</head>
<body>
  <div id="reference"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>`;

const INIT = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#reference",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
});`;

/** GET /openapi.json, GET /docs (interactive reference) and its assets. */
export function docsRoutes(version: string) {
  let document: ReturnType<typeof buildOpenApiDocument> | undefined;
  return new Hono<AppEnv>()
    .get("/openapi.json", (c) => {
      document ??= buildOpenApiDocument(version, [registerConsolePaths]);
      return c.json(document);
    })
    .get("/docs", (c) => c.html(PAGE))
    .get("/docs/init.js", (c) =>
      c.body(INIT, 200, { "content-type": "text/javascript; charset=utf-8" }),
    )
    .get("/docs/assets/:file", async (c) => {
      const file = c.req.param("file");
      const type = ASSETS[file];
      if (!type) return c.notFound();
      const body = await readFile(path.join(swaggerDir, file));
      return c.body(body, 200, { "content-type": type, "cache-control": "public, max-age=86400" });
    });
}
