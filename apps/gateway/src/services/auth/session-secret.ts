import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * The HMAC key signing portal session JWTs. Production must pass PORTAL_SESSION_SECRET; a local
 * install generates one into the data directory (mode 0600) on first start and reuses it, like
 * the encryption key, so sessions survive restarts.
 */
export function loadSessionSecret(opts: {
  configured: string | undefined;
  dataDir: string;
  production: boolean;
}): { secret: Uint8Array; generated: boolean } {
  if (opts.configured)
    return { secret: new TextEncoder().encode(opts.configured), generated: false };
  if (opts.production)
    throw new Error("PORTAL_SESSION_SECRET is required when NODE_ENV=production");
  const file = path.join(opts.dataDir, "session.key");
  if (existsSync(file)) {
    return {
      secret: new TextEncoder().encode(readFileSync(file, "utf8").trim()),
      generated: false,
    };
  }
  mkdirSync(opts.dataDir, { recursive: true });
  const secret = randomBytes(32).toString("hex");
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return { secret: new TextEncoder().encode(secret), generated: true };
}
