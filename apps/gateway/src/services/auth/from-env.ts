import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import type { GatewayEnv } from "../../env.js";
import type { PortalAuthOptions } from "./build.js";
import type { PortalAuth } from "./portal-auth.js";
import { loadSessionSecret } from "./session-secret.js";

/** Session secret, TTL and OIDC settings from the environment (secret generated locally). */
export function portalAuthFromEnv(
  env: GatewayEnv,
  dataDir: string,
  logger: Logger,
): PortalAuthOptions {
  const { secret, generated } = loadSessionSecret({
    configured: env.PORTAL_SESSION_SECRET,
    dataDir,
    production: env.NODE_ENV === "production",
  });
  if (generated) {
    logger.warn({ file: path.join(dataDir, "session.key") }, "generated a local session secret");
  }
  const oidc =
    env.PORTAL_OIDC_ISSUER && env.PORTAL_OIDC_AUDIENCE && env.PORTAL_OIDC_JWKS_URL
      ? {
          issuer: env.PORTAL_OIDC_ISSUER,
          audience: env.PORTAL_OIDC_AUDIENCE,
          jwksUrl: env.PORTAL_OIDC_JWKS_URL,
        }
      : null;
  return {
    sessionSecret: secret,
    sessionTtlSeconds: env.PORTAL_SESSION_TTL_HOURS * 3600,
    oidc,
    loginMaxFailures: 5,
    loginWindowMs: 15 * 60_000,
  };
}

/**
 * Give the bootstrap operator a password if they have none: PORTAL_BOOTSTRAP_PASSWORD, or
 * outside production a generated one. Returns the password to print once, or null.
 */
export async function ensureOperatorPassword(
  auth: PortalAuth,
  env: GatewayEnv,
  logger: Logger,
): Promise<string | null> {
  if (env.PORTAL_BOOTSTRAP_PASSWORD) {
    await auth.setInitialPassword(env.PORTAL_BOOTSTRAP_EMAIL, env.PORTAL_BOOTSTRAP_PASSWORD);
    return null;
  }
  if (env.NODE_ENV === "production") return null;
  const password = randomBytes(12).toString("base64url");
  const set = await auth.setInitialPassword(env.PORTAL_BOOTSTRAP_EMAIL, password);
  if (set) logger.warn("generated a password for the bootstrap operator (printed once)");
  return set ? password : null;
}

/**
 * The web app build: PORTAL_WEB_DIR, else apps/portal/dist of this checkout. Two candidates
 * because this module runs from source (apps/gateway/src/services/auth/) and from the bundle
 * (apps/gateway/dist/main.mjs). A missing build is still served later: the web-app route reads
 * the directory per request, so building after start needs no restart.
 */
export function portalWebDir(env: GatewayEnv): string {
  if (env.PORTAL_WEB_DIR) return path.resolve(env.PORTAL_WEB_DIR);
  const fromSource = fileURLToPath(new URL("../../../../portal/dist", import.meta.url));
  const fromBundle = fileURLToPath(new URL("../../portal/dist", import.meta.url));
  return existsSync(fromSource) || !existsSync(fromBundle) ? fromSource : fromBundle;
}
