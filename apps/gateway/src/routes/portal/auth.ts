import { SignInBody, SignUpBody } from "@portal/contracts";
import { Hono } from "hono";
import { requestClientIp } from "../../lib/client-ip.js";
import { parseJsonBody } from "../../lib/validate.js";
import {
  clearSessionCookie,
  portalAuth,
  preSessionGuard,
  setSessionCookie,
} from "../../middleware/portal-auth.js";
import { listMemberships } from "../../services/portal/orgs.js";
import { userView } from "../../services/portal/views.js";
import type { AppEnv } from "../../types.js";

/** /portal/api/auth: sign-up, sign-in, sign-out and which sign-in methods exist. */
export const authRoutes = new Hono<AppEnv>()
  .get("/config", (c) => {
    const oidc = c.get("services").auth.oidc;
    return c.json({ password: true, oidc: oidc ? { issuer: oidc.issuer } : null });
  })
  .post("/sign-up", preSessionGuard, async (c) => {
    const input = await parseJsonBody(c, SignUpBody);
    const auth = c.get("services").auth;
    const session = await auth.signUp(input, {
      ip: requestClientIp(c),
      userAgent: c.req.header("user-agent") ?? null,
      requestId: c.get("requestId"),
    });
    setSessionCookie(c, session.token, auth.tokens.ttlSeconds);
    const memberships = await listMemberships(c.get("services").db, session.user.id);
    return c.json(
      { user: userView(session.user), memberships, csrf_token: session.csrfToken },
      201,
    );
  })
  .post("/sign-in", preSessionGuard, async (c) => {
    const input = await parseJsonBody(c, SignInBody);
    const auth = c.get("services").auth;
    const session = await auth.signIn(input, {
      ip: requestClientIp(c),
      userAgent: c.req.header("user-agent") ?? null,
      requestId: c.get("requestId"),
    });
    setSessionCookie(c, session.token, auth.tokens.ttlSeconds);
    const memberships = await listMemberships(c.get("services").db, session.user.id);
    return c.json({ user: userView(session.user), memberships, csrf_token: session.csrfToken });
  })
  .post("/sign-out", portalAuth, async (c) => {
    const user = c.get("portalUser");
    if (user?.sessionId) await c.get("services").auth.signOut(user.sessionId);
    clearSessionCookie(c);
    return c.body(null, 204);
  });
