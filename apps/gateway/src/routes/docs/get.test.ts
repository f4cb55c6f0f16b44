import { describe, expect, it } from "vitest";
import type { buildOpenApiDocument } from "../../openapi/document.js";
import { docsRoutes } from "./get.js";

const app = docsRoutes("test");

describe("OpenAPI document and /docs", () => {
  it("documents the public API from the zod contracts", async () => {
    const res = await app.request("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as ReturnType<typeof buildOpenApiDocument>;
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths ?? {})).toEqual(
      expect.arrayContaining([
        "/health",
        "/livez",
        "/readyz",
        "/v1/models",
        "/v1/completions",
        "/v1/chat/completions",
        "/v1/messages",
        "/v1/usage",
      ]),
    );
    // Vendor routes document the vendor error objects with the statuses really sent.
    const chat = doc.paths?.["/v1/chat/completions"]?.post;
    expect(chat?.requestBody).toBeDefined();
    expect(Object.keys(chat?.responses ?? {})).not.toContain("402");
    expect(JSON.stringify(chat?.responses?.["429"])).toContain("OpenAIErrorResponse");
    const messages = doc.paths?.["/v1/messages"]?.post;
    expect(JSON.stringify(messages?.responses?.["401"])).toContain("AnthropicErrorResponse");
    const post = doc.paths?.["/v1/completions"]?.post;
    expect(post?.requestBody).toMatchObject({
      content: {
        "application/json": { schema: { $ref: "#/components/schemas/CompletionRequest" } },
      },
    });
    expect(Object.keys(post?.responses ?? {}).sort()).toEqual(
      [
        "200",
        "400",
        "401",
        "402",
        "403",
        "404",
        "409",
        "413",
        "429",
        "500",
        "502",
        "503",
        "504",
      ].sort(),
    );
    const schemas = doc.components?.schemas ?? {};
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining([
        "CompletionRequest",
        "CompletionData",
        "FailedEnvelope",
        "ErrorBody",
        "ModelList",
      ]),
    );
    // The error code enum in the document is the catalogue itself.
    expect(JSON.stringify(schemas.ErrorBody)).toContain("upstream_timeout");
    expect(doc.components?.securitySchemes).toHaveProperty("apiKey");
  });

  it("serves an interactive reference page with its assets, no CDN", async () => {
    const page = await app.request("/docs");
    const html = await page.text();
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(html).toContain("/docs/assets/swagger-ui-bundle.js");
    expect(html).not.toMatch(/https?:\/\//);
    const js = await app.request("/docs/assets/swagger-ui-bundle.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toContain("javascript");
    expect((await js.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    expect((await app.request("/docs/init.js")).status).toBe(200);
    expect((await app.request("/docs/assets/..%2Fpackage.json")).status).toBe(404);
    expect((await app.request("/docs/assets/nope.js")).status).toBe(404);
  });
});
