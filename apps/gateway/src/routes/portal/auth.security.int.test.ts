import { auditLog, eq, portalSessions } from "@portal/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultPortalAuthOptions } from "../../services/auth/build.js";
import { createTestGateway, type TestGateway } from "../../testing/harness.js";
import { asUser, expectJson, sessionCookie, signUp } from "../../testing/portal.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway({
    portalAuth: { ...defaultPortalAuthOptions(), loginMaxFailures: 3 },
  });
});
afterAll(() => gw.close());

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return gw.app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

describe("sign-up and sign-in", () => {
  it("signs up with a personal org, owner role and an audited trail", async () => {
    const s = await signUp(gw, "Ada");
    const me = await expectJson<{
      user: { email: string; name: string; has_password: boolean };
      memberships: Array<{ role: string; org: { plan: { slug: string } } }>;
      csrf_token: string;
    }>(await asUser(gw, s, "GET", "/portal/api/me"), 200);
    expect(me).toMatchObject({
      user: { email: s.email, name: "Ada", has_password: true },
      memberships: [{ role: "owner", org: { plan: { slug: "free" } } }],
      csrf_token: s.csrf,
    });
    const audit = await gw.dbHandle.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.actorId, s.userId));
    expect(audit.map((a) => a.action).sort()).toEqual(["org.created", "user.signed_up"]);
    // The password is never stored in the clear or returned.
    expect(JSON.stringify(me)).not.toContain(s.password);
  });

  it("refuses a second account with the same email (case-insensitive)", async () => {
    const s = await signUp(gw);
    const res = await post("/portal/api/auth/sign-up", {
      email: s.email.toUpperCase(),
      password: "another-password",
    });
    expect(await expectJson(res, 409)).toMatchObject({ error: { code: "conflict" } });
  });

  it("validates input with the error envelope", async () => {
    const res = await post("/portal/api/auth/sign-up", { email: "nope", password: "short" });
    const body = await expectJson<{ error: { details: { issues: Array<{ path: string }> } } }>(
      res,
      400,
    );
    expect(body).toMatchObject({ status: "failed", error: { code: "invalid_request" } });
    expect(body.error.details.issues.map((i) => i.path).sort()).toEqual(["email", "password"]);
  });

  it("signs in with the right password and sets a hardened cookie", async () => {
    const s = await signUp(gw);
    const res = await post("/portal/api/auth/sign-in", { email: s.email, password: s.password });
    const body = await expectJson<{ csrf_token: string }>(res, 200);
    expect(body.csrf_token).toMatch(/^[\w-]{43}$/);
    const line = res.headers.getSetCookie().find((l) => l.startsWith("portal_session="));
    expect(line).toMatch(/HttpOnly/i);
    expect(line).toMatch(/SameSite=Lax/i);
    expect(line).toMatch(/Path=\//);
    // In-process requests go to http://localhost: loopback HTTP, so not Secure.
    expect(line).not.toMatch(/Secure/i);
  });

  it("marks the cookie Secure on anything but loopback HTTP", async () => {
    const s = await signUp(gw);
    for (const [url, headers] of [
      ["https://portal.example.com/portal/api/auth/sign-in", {}],
      ["http://portal.example.com/portal/api/auth/sign-in", {}],
      ["http://127.0.0.1/portal/api/auth/sign-in", { "x-forwarded-proto": "https" }],
    ] as const) {
      const res = await gw.app.request(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ email: s.email, password: s.password }),
      });
      expect(res.status, url).toBe(200);
      const line = res.headers.getSetCookie().find((l) => l.startsWith("portal_session="));
      expect(line, url).toMatch(/Secure/i);
    }
  });

  it("answers the same way for a wrong password and an unknown email", async () => {
    const s = await signUp(gw);
    const wrong = await expectJson(
      await post("/portal/api/auth/sign-in", { email: s.email, password: "wrong-password" }),
      401,
    );
    const unknown = await expectJson(
      await post("/portal/api/auth/sign-in", {
        email: "nobody-here@example.com",
        password: "wrong-password",
      }),
      401,
    );
    expect(wrong).toMatchObject({
      error: { code: "unauthorized", message: "Wrong email or password." },
    });
    expect(unknown).toMatchObject({ error: { message: "Wrong email or password." } });
  });

  it("throttles sign-in per email and client after repeated failures", async () => {
    const s = await signUp(gw);
    for (let i = 0; i < 3; i++) {
      const res = await post("/portal/api/auth/sign-in", {
        email: s.email,
        password: "wrong-pass",
      });
      expect(res.status).toBe(401);
    }
    // Even the right password now waits: the throttle is checked before the password.
    const blocked = await post("/portal/api/auth/sign-in", {
      email: s.email,
      password: s.password,
    });
    const body = await expectJson<{ error: { details: { retry_after: number } } }>(blocked, 429);
    expect(body).toMatchObject({ error: { code: "rate_limited", details: { scope: "login" } } });
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(body.error.details.retry_after).toBeGreaterThan(0);
    // Another account from the same client is unaffected.
    const other = await signUp(gw);
    const ok = await post("/portal/api/auth/sign-in", {
      email: other.email,
      password: other.password,
    });
    expect(ok.status).toBe(200);
  });

  it("a burst of parallel guesses gets no more tries than guesses sent one at a time", async () => {
    const s = await signUp(gw);
    const guesses = Array.from({ length: 30 }, (_, i) =>
      post("/portal/api/auth/sign-in", {
        email: s.email,
        password: i === 29 ? s.password : `wrong-pass-${i}`,
      }),
    );
    const statuses = (await Promise.all(guesses)).map((r) => r.status);
    // Three attempts per window (this gateway's setting), whichever three were checked.
    expect(statuses.filter((st) => st !== 429)).toHaveLength(3);
    expect(statuses.filter((st) => st === 429)).toHaveLength(27);
  });

  it("a wrong current password is a 400 on the form, throttled, and the session lives on", async () => {
    const s = await signUp(gw);
    const change = (current: string) =>
      gw.app.request("/portal/api/me/password", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          cookie: s.cookie,
          "x-csrf-token": s.csrf,
        },
        body: JSON.stringify({ current_password: current, new_password: "a-new-password-123" }),
      });
    for (let i = 0; i < 3; i++) {
      const body = await expectJson(await change(`wrong-${i}`), 400);
      expect(body).toMatchObject({
        error: { code: "invalid_request", details: { field: "current_password" } },
      });
    }
    const blocked = await change(s.password);
    await expectJson(blocked, 429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    // The session still works: the wrong passwords did not sign anyone out.
    const me = await gw.app.request("/portal/api/me", { headers: { cookie: s.cookie } });
    expect(me.status).toBe(200);
  });

  it("behind a trusted proxy, throttles the client the proxy saw, not an address the client wrote", async () => {
    const proxied = await createTestGateway({
      portalAuth: { ...defaultPortalAuthOptions(), loginMaxFailures: 2 },
      trustedProxyHops: 1,
    });
    try {
      const s = await signUp(proxied);
      const signIn = (password: string, xff: string) =>
        proxied.app.request("/portal/api/auth/sign-in", {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": xff },
          body: JSON.stringify({ email: s.email, password }),
        });
      for (let i = 0; i < 2; i++)
        expect((await signIn("wrong-pass", "203.0.113.5")).status).toBe(401);
      expect((await signIn(s.password, "203.0.113.5")).status).toBe(429);
      // A client-written prefix is not a new client: the proxy appended 203.0.113.5 last.
      expect((await signIn(s.password, "198.51.100.1, 203.0.113.5")).status).toBe(429);
      // Another client behind the same proxy is not locked out by the first one's failures.
      expect((await signIn(s.password, "203.0.113.6")).status).toBe(200);
    } finally {
      await proxied.close();
    }
  });

  it("refuses cross-origin and form-encoded sign-in (login CSRF)", async () => {
    const s = await signUp(gw);
    const cross = await post(
      "/portal/api/auth/sign-in",
      { email: s.email, password: s.password },
      { origin: "https://evil.example", host: "localhost" },
    );
    expect(await expectJson(cross, 403)).toMatchObject({ error: { code: "forbidden" } });
    const form = await gw.app.request("/portal/api/auth/sign-in", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `email=${encodeURIComponent(s.email)}&password=${s.password}`,
    });
    expect(form.status).toBe(400);
    const same = await post(
      "/portal/api/auth/sign-in",
      { email: s.email, password: s.password },
      { origin: "http://localhost", host: "localhost" },
    );
    expect(same.status).toBe(200);
  });
});

describe("sessions and CSRF", () => {
  it("needs a session for everything but /auth", async () => {
    for (const path of ["/portal/api/me", "/portal/api/orgs", "/admin/api/orgs"]) {
      const res = await gw.app.request(path);
      expect(await expectJson(res, 401), path).toMatchObject({ error: { code: "unauthorized" } });
    }
    const forged = await gw.app.request("/portal/api/me", {
      headers: { cookie: "portal_session=eyJhbGciOiJIUzI1NiJ9.e30.invalid" },
    });
    expect(forged.status).toBe(401);
  });

  it("refuses state-changing requests without the CSRF token", async () => {
    const s = await signUp(gw);
    const path = `/portal/api/orgs/${s.orgId}/keys`;
    const missing = await asUser(gw, s, "POST", path, { name: "k" }, { csrf: false });
    expect(await expectJson(missing, 403)).toMatchObject({ error: { code: "forbidden" } });
    const other = await signUp(gw);
    const wrong = await asUser(gw, { cookie: s.cookie, csrf: other.csrf }, "POST", path, {
      name: "k",
    });
    expect(wrong.status).toBe(403);
    const ok = await asUser(gw, s, "POST", path, { name: "k" });
    expect(ok.status).toBe(201);
    // Reads need no token.
    expect((await asUser(gw, s, "GET", path, undefined, { csrf: false })).status).toBe(200);
  });

  it("signs out server-side: the old cookie stops working", async () => {
    const s = await signUp(gw);
    const out = await asUser(gw, s, "POST", "/portal/api/auth/sign-out");
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie().join(";")).toMatch(/portal_session=;|Max-Age=0/);
    const after = await asUser(gw, s, "GET", "/portal/api/me");
    expect(after.status).toBe(401);
    const rows = await gw.dbHandle.db.select().from(portalSessions);
    expect(rows.some((r) => r.userId === s.userId && r.revokedAt !== null)).toBe(true);
  });

  it("changes the password, ending other sessions but not this one", async () => {
    const s = await signUp(gw);
    const second = await post("/portal/api/auth/sign-in", { email: s.email, password: s.password });
    const secondCookie = sessionCookie(second);
    if (!secondCookie) throw new Error("no cookie");
    const wrong = await asUser(gw, s, "POST", "/portal/api/me/password", {
      current_password: "not-it-at-all",
      new_password: "a-new-password-1",
    });
    expect(wrong.status).toBe(400);
    const res = await asUser(gw, s, "POST", "/portal/api/me/password", {
      current_password: s.password,
      new_password: "a-new-password-1",
    });
    expect(res.status).toBe(204);
    expect((await asUser(gw, s, "GET", "/portal/api/me")).status).toBe(200);
    const other = await gw.app.request("/portal/api/me", { headers: { cookie: secondCookie } });
    expect(other.status).toBe(401);
    const again = await post("/portal/api/auth/sign-in", {
      email: s.email,
      password: "a-new-password-1",
    });
    expect(again.status).toBe(200);
  });

  it("updates the profile name", async () => {
    const s = await signUp(gw);
    const res = await asUser(gw, s, "PATCH", "/portal/api/me", { name: "Grace" });
    expect(await expectJson(res, 200)).toMatchObject({ user: { name: "Grace" } });
  });

  it("tells the web app which sign-in methods exist", async () => {
    const res = await gw.app.request("/portal/api/auth/config");
    expect(await expectJson(res, 200)).toEqual({ password: true, oidc: null });
  });

  it("answers unknown API paths with a JSON 404, not the web app", async () => {
    const s = await signUp(gw);
    const res = await asUser(gw, s, "GET", "/portal/api/nope");
    expect(await expectJson(res, 404)).toMatchObject({ error: { code: "not_found" } });
  });
});
