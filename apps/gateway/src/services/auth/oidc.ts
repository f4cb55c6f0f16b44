import { createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";

export interface OidcConfig {
  issuer: string;
  audience: string;
  jwksUrl: string;
}

export interface OidcIdentity {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

/**
 * Verifies bearer JWTs issued by an external identity provider (Clerk, Supabase Auth, any OIDC
 * issuer) against its JWKS: signature, issuer, audience and expiry. Keys are fetched and cached
 * by jose, and refetched when an unknown `kid` shows up.
 */
export class OidcVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly config: OidcConfig) {
    this.jwks = createRemoteJWKSet(new URL(config.jwksUrl), {
      timeoutDuration: 5_000,
      cooldownDuration: 30_000,
    });
  }

  get issuer(): string {
    return this.config.issuer;
  }

  /** The identity in a valid token; null when the token fails any check. */
  async verify(token: string): Promise<OidcIdentity | null> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        // Asymmetric algorithms only: an HS256 token "signed" with a public key is refused.
        algorithms: ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"],
        clockTolerance: 5,
      }));
    } catch {
      return null;
    }
    if (typeof payload.sub !== "string" || payload.sub === "") return null;
    const email = typeof payload.email === "string" ? payload.email.toLowerCase() : null;
    return {
      subject: payload.sub,
      email,
      emailVerified: payload.email_verified === true,
      name: typeof payload.name === "string" ? payload.name : null,
    };
  }
}
