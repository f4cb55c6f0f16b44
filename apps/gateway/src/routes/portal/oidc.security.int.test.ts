import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { eq, users } from "@portal/db";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultPortalAuthOptions } from "../../services/auth/build.js";
import { createTestGateway, type TestGateway } from "../../testing/harness.js";
import { expectJson, signUp } from "../../testing/portal.js";

const ISSUER = "https://idp.test.local";
const AUDIENCE = "portal-console";

let gw: TestGateway;
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

let jwksServer: Server;
let signingKey: PrivateKey;
let strayKey: PrivateKey;
let jwksHits = 0;

beforeAll(async () => {
  const pair = await generateKeyPair("RS256");
  signingKey = pair.privateKey;
  // A key the IdP never published (unknown kid).
  strayKey = (await generateKeyPair("RS256")).privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  jwksServer = createServer((req, res) => {
    jwksHits++;
    if (req.url !== "/.well-known/jwks.json") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
  const { port } = jwksServer.address() as AddressInfo;
  gw = await createTestGateway({
    portalAuth: {
      ...defaultPortalAuthOptions(),
      oidc: {
        issuer: ISSUER,
        audience: AUDIENCE,
        jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      },
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
});

interface TokenOpts {
  sub?: string;
  email?: string;
  emailVerified?: boolean;
  aud?: string;
  iss?: string;
  exp?: number;
  kid?: string;
  key?: PrivateKey;
}

function idToken(o: TokenOpts = {}): Promise<string> {
  const claims: Record<string, unknown> = {};
  if (o.email) claims.email = o.email;
  if (o.emailVerified !== undefined) claims.email_verified = o.emailVerified;
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: o.kid ?? "k1" })
    .setSubject(o.sub ?? `user_${Math.random().toString(36).slice(2)}`)
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? AUDIENCE)
    .setIssuedAt();
  jwt.setExpirationTime(o.exp ?? Math.floor(Date.now() / 1000) + 600);
  return jwt.sign(o.key ?? signingKey);
}

function me(token: string) {
  return gw.app.request("/portal/api/me", { headers: { authorization: `Bearer ${token}` } });
}

describe("OIDC bearer tokens", () => {
  it("advertises the identity provider", async () => {
    const res = await gw.app.request("/portal/api/auth/config");
    expect(await expectJson(res, 200)).toEqual({ password: true, oidc: { issuer: ISSUER } });
  });

  it("accepts a valid token, creating the user and a personal org on first use", async () => {
    const sub = `user_${Date.now()}`;
    const token = await idToken({ sub, email: `${sub}@idp.example`, emailVerified: true });
    const first = await expectJson<{
      user: { id: string; email: string; has_password: boolean };
      memberships: Array<{ role: string }>;
      csrf_token: string | null;
    }>(await me(token), 200);
    expect(first).toMatchObject({
      user: { email: `${sub}@idp.example`, has_password: false },
      memberships: [{ role: "owner" }],
      // Bearer requests need no CSRF token.
      csrf_token: null,
    });
    const again = await expectJson<{ user: { id: string } }>(await me(token), 200);
    expect(again.user.id).toBe(first.user.id);
    const [row] = await gw.dbHandle.db.select().from(users).where(eq(users.id, first.user.id));
    expect(row?.authSubject).toBe(sub);
    expect(jwksHits).toBeGreaterThan(0);
  });

  it("lets a bearer user mutate without a CSRF token", async () => {
    const token = await idToken({ email: `m-${Date.now()}@idp.example` });
    const body = await expectJson<{ memberships: Array<{ org: { id: string } }> }>(
      await me(token),
      200,
    );
    const orgId = body.memberships[0]?.org.id;
    const res = await gw.app.request(`/portal/api/orgs/${orgId}/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "from-idp" }),
    });
    expect(res.status).toBe(201);
  });

  it.each([
    ["expired", { exp: Math.floor(Date.now() / 1000) - 3600 }],
    ["wrong audience", { aud: "someone-else" }],
    ["wrong issuer", { iss: "https://evil.example" }],
    ["unknown kid", { kid: "k-unknown", stray: true }],
    ["signed by an unpublished key", { kid: "k1", stray: true }],
  ] as const)("refuses a token that is %s", async (_name, opts) => {
    const { stray, ...rest } = { stray: false, ...opts };
    const res = await me(await idToken({ ...rest, ...(stray ? { key: strayKey } : {}) }));
    expect(await expectJson(res, 401)).toMatchObject({ error: { code: "unauthorized" } });
  });

  it("refuses garbage and HS256 tokens", async () => {
    expect((await me("not-a-jwt")).status).toBe(401);
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", kid: "k1" })
      .setSubject("x")
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode("a".repeat(32)));
    expect((await me(hs)).status).toBe(401);
  });

  it("links an existing password account only when the IdP verified the email", async () => {
    const s = await signUp(gw);
    const unverified = await idToken({
      sub: `u1-${Date.now()}`,
      email: s.email,
      emailVerified: false,
    });
    expect((await me(unverified)).status).toBe(401);
    const verified = await idToken({
      sub: `u2-${Date.now()}`,
      email: s.email,
      emailVerified: true,
    });
    const body = await expectJson<{ user: { id: string } }>(await me(verified), 200);
    expect(body.user.id).toBe(s.userId);
  });
});
