import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { SecretBox } from "./secret-box.js";

/**
 * The key sealing router credentials. Production must pass PORTAL_ENCRYPTION_KEY; a local
 * install generates one into the data directory (mode 0600) on first start and reuses it.
 */
export function loadSecretBox(opts: {
  configured: string | undefined;
  dataDir: string;
  production: boolean;
}): { box: SecretBox; generated: boolean } {
  if (opts.configured)
    return { box: new SecretBox(SecretBox.parseKey(opts.configured)), generated: false };
  if (opts.production)
    throw new Error("PORTAL_ENCRYPTION_KEY is required when NODE_ENV=production");
  const file = path.join(opts.dataDir, "encryption.key");
  if (existsSync(file)) {
    return { box: new SecretBox(SecretBox.parseKey(readFileSync(file, "utf8"))), generated: false };
  }
  mkdirSync(opts.dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString("hex")}\n`, { mode: 0o600 });
  return { box: new SecretBox(key), generated: true };
}
