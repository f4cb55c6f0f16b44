import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { API_REFERENCE_MD, OPENAPI_JSON, renderApiDocs } from "../../../../scripts/api-docs.js";

describe("docs/openapi.json and docs/api-reference.md", () => {
  it("are current with the OpenAPI document (run `npm run docs:api` when this fails)", () => {
    const { json, markdown } = renderApiDocs();
    expect(readFileSync(OPENAPI_JSON, "utf8")).toBe(json);
    expect(readFileSync(API_REFERENCE_MD, "utf8")).toBe(markdown);
    expect(markdown).toContain("### `POST /v1/completions`");
  });
});
