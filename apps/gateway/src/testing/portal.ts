import { randomBytes } from "node:crypto";
import type { MeResponse } from "@portal/contracts";
import { eq, users } from "@portal/db";
import type { TestGateway } from "./harness.js";

/** A signed-up portal user: their session cookie, CSRF token and personal org. */
export interface PortalSession {
  userId: string;
  email: string;
  password: string;
  orgId: string;
  cookie: string;
  csrf: string;
}

/** The `name=value` part of the session cookie in a response, or null. */
export function sessionCookie(res: Response): string | null {
  for (const line of res.headers.getSetCookie()) {
    const match = /^(portal_session=[^;]*)/.exec(line);
    if (match?.[1]) return match[1];
  }
  return null;
}

/** Sign up a fresh user (unique email) through the API. */
export async function signUp(gw: TestGateway, name = "Test User"): Promise<PortalSession> {
  const email = `u-${randomBytes(6).toString("hex")}@example.com`;
  const password = `pw-${randomBytes(8).toString("hex")}`;
  const res = await gw.app.request("/portal/api/auth/sign-up", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password, name }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`sign-up failed ${res.status}: ${text}`);
  const body = JSON.parse(text) as MeResponse;
  const cookie = sessionCookie(res);
  const orgId = body.memberships[0]?.org.id;
  if (!cookie || !orgId || !body.csrf_token) throw new Error(`sign-up incomplete: ${text}`);
  return { userId: body.user.id, email, password, orgId, cookie, csrf: body.csrf_token };
}

/** Make a user a platform operator (there is deliberately no API for this). */
export async function makeOperator(gw: TestGateway, userId: string): Promise<void> {
  await gw.dbHandle.db.update(users).set({ isOperator: true }).where(eq(users.id, userId));
}

/** A request as a signed-in user: cookie always, CSRF token on mutations, JSON body. */
export function asUser(
  gw: TestGateway,
  session: Pick<PortalSession, "cookie" | "csrf">,
  method: string,
  path: string,
  body?: unknown,
  opts: { csrf?: boolean } = {},
): Promise<Response> {
  const headers: Record<string, string> = { cookie: session.cookie };
  if (method !== "GET" && opts.csrf !== false) headers["x-csrf-token"] = session.csrf;
  if (body !== undefined) headers["content-type"] = "application/json";
  return gw.app.request(path, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  }) as Promise<Response>;
}

/** Parse a JSON response, failing with the body in the message when the status is not `status`. */
export async function expectJson<T = Record<string, unknown>>(
  res: Response,
  status: number,
): Promise<T> {
  const text = await res.text();
  if (res.status !== status) {
    throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  }
  return (text ? JSON.parse(text) : null) as T;
}
