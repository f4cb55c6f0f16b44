import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestGateway, type TestGateway } from "../../testing/harness.js";

let gw: TestGateway;
const dir = mkdtempSync(path.join(tmpdir(), "portal-web-"));
beforeAll(async () => {
  mkdirSync(path.join(dir, "assets"));
  writeFileSync(path.join(dir, "index.html"), "<!doctype html><div id=root></div>");
  writeFileSync(path.join(dir, "assets", "app-abc.js"), "console.log(1)");
  writeFileSync(path.join(tmpdir(), "outside-secret.txt"), "TOPSECRET-42");
  gw = await createTestGateway({ portalWebDir: dir });
});
afterAll(async () => {
  await gw.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("web app serving", () => {
  it("serves index.html for app routes under /portal and /admin (SPA fallback)", async () => {
    for (const p of ["/portal", "/portal/", "/portal/keys", "/admin", "/admin/orgs/org_1"]) {
      const res = await gw.app.request(p);
      expect(res.status, p).toBe(200);
      expect(res.headers.get("content-type"), p).toMatch(/text\/html/);
      expect(await res.text(), p).toContain("<div id=root>");
      expect(res.headers.get("content-security-policy"), p).toContain("frame-ancestors 'none'");
    }
  });

  it("serves hashed assets with long caching and 404s for missing ones", async () => {
    const res = await gw.app.request("/portal/assets/app-abc.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/javascript/);
    expect(res.headers.get("cache-control")).toContain("immutable");
    expect((await gw.app.request("/portal/assets/missing.js")).status).toBe(404);
  });

  it("never serves files outside the build directory", async () => {
    for (const p of [
      "/portal/../outside-secret.txt",
      "/portal/%2e%2e/outside-secret.txt",
      "/portal/%252e%252e/outside-secret.txt",
      "/portal/..%2foutside-secret.txt",
      "/portal/%2e%2e%5coutside-secret.txt",
    ]) {
      const res = await gw.app.request(p);
      expect(await res.text(), p).not.toContain("TOPSECRET-42");
    }
  });

  it("answers malformed percent-encoding with the app shell or a 404, never a 500", async () => {
    for (const p of [
      "/portal/%zz",
      "/portal/%",
      "/admin/%c0%ae%c0%ae/x",
      "/portal/assets/%e0%a4",
    ]) {
      const res = await gw.app.request(p);
      expect([200, 404], p).toContain(res.status);
      if (res.status === 200) expect(await res.text(), p).toContain("<!doctype html>");
    }
  });

  it("keeps the JSON APIs ahead of the web app", async () => {
    const res = await gw.app.request("/portal/api/unknown");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/json/);
    const admin = await gw.app.request("/admin/api/orgs");
    expect(admin.headers.get("content-type")).toMatch(/json/);
  });

  it("documents the portal and operator APIs in the OpenAPI document", async () => {
    const res = await gw.app.request("/openapi.json");
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/portal/api/auth/sign-in",
        "/portal/api/orgs/{orgId}/keys",
        "/portal/api/orgs/{orgId}/keys/{keyId}/roll",
        "/portal/api/orgs/{orgId}/usage",
        "/admin/api/orgs/{orgId}/disable",
        "/admin/api/targets/{targetId}",
        "/admin/api/audit",
      ]),
    );
    expect(Object.keys(doc.paths["/portal/api/orgs/{orgId}/keys"] ?? {}).sort()).toEqual([
      "get",
      "post",
    ]);
  });
});
