import { createHmac, timingSafeEqual } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";

const ISSUER = "portal";
const AUDIENCE = "portal-web";

export interface SessionClaims {
  userId: string;
  sessionId: string;
}

/** Signs and verifies the session JWT (HS256) and derives the session's CSRF token. */
export class SessionTokens {
  constructor(
    private readonly secret: Uint8Array,
    readonly ttlSeconds: number,
  ) {
    if (secret.length < 32) throw new Error("the session secret must be at least 32 bytes");
  }

  /** A signed JWT for this session, valid for `ttlSeconds`. */
  sign(claims: SessionClaims): Promise<string> {
    return new SignJWT({ sid: claims.sessionId })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(claims.userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.secret);
  }

  /** The claims of a valid, unexpired token; null for anything else. */
  async verify(token: string): Promise<SessionClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.secret, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ["HS256"],
      });
      if (typeof payload.sub !== "string" || typeof payload.sid !== "string") return null;
      return { userId: payload.sub, sessionId: payload.sid };
    } catch {
      return null;
    }
  }

  /**
   * The CSRF token of a session: HMAC(secret, sid). It is handed to the web app in JSON bodies
   * (which another origin cannot read) and must come back in `X-CSRF-Token` on every
   * state-changing request. Being derived from the session it needs no storage, and an attacker
   * who can plant cookies still cannot forge it without the server secret.
   */
  csrfToken(sessionId: string): string {
    return createHmac("sha256", this.secret).update(`csrf:${sessionId}`).digest("base64url");
  }

  /** Constant-time comparison of a presented CSRF token with the session's. */
  checkCsrf(sessionId: string, presented: string | undefined): boolean {
    if (!presented) return false;
    const expected = Buffer.from(this.csrfToken(sessionId));
    const given = Buffer.from(presented);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
