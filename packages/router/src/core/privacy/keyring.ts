import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

const PREFIX = "enc:v1:";
const SALT = "portal-router/payload-encryption/v1";

/**
 * Payload-encryption keys derived from ENCRYPTION_SEED with HKDF-SHA256: one per session and one
 * per task, so a task key opens only that task's payloads. Sealed payloads are AES-256-GCM
 * (12-byte IV, 16-byte tag) written as `enc:v1:{scope}:{base64(iv | tag | ciphertext)}`.
 */
export class PayloadKeyring {
  readonly version = "v1";
  private readonly seed: Buffer;

  constructor(seed: string) {
    if (seed.length < 16) throw new Error("ENCRYPTION_SEED must be at least 16 characters");
    this.seed = Buffer.from(seed, "utf8");
  }

  /** The 32-byte key of a scope: `s{sessionId}` or `t{sessionId}-{taskId}`. */
  key(scope: string): Buffer {
    return Buffer.from(hkdfSync("sha256", this.seed, SALT, `payload-key:${scope}`, 32));
  }

  sessionScope(sessionId: number): string {
    return `s${sessionId}`;
  }

  taskScope(sessionId: number, taskId: number): string {
    return `t${sessionId}-${taskId}`;
  }

  /** Encrypt text under a scope's key. */
  seal(scope: string, plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key(scope), iv);
    cipher.setAAD(Buffer.from(scope));
    const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return `${PREFIX}${scope}:${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString("base64")}`;
  }

  /** Decrypt a sealed payload; throws when it was tampered with or sealed under another seed. */
  open(sealed: string): { scope: string; plaintext: string } {
    const { scope, body } = PayloadKeyring.parse(sealed);
    const raw = Buffer.from(body, "base64");
    const decipher = createDecipheriv("aes-256-gcm", this.key(scope), raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(scope));
    decipher.setAuthTag(raw.subarray(12, 28));
    const plaintext = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString(
      "utf8",
    );
    return { scope, plaintext };
  }

  /** True for text this keyring format produced. */
  static isSealed(text: string): boolean {
    return text.startsWith(PREFIX);
  }

  /** The scope and body of a sealed payload. */
  static parse(sealed: string): { scope: string; body: string } {
    const m = /^enc:v1:([st][0-9-]+):([A-Za-z0-9+/=]+)$/.exec(sealed);
    if (m === null || m[1] === undefined || m[2] === undefined)
      throw new Error("not a sealed payload");
    return { scope: m[1], body: m[2] };
  }
}
