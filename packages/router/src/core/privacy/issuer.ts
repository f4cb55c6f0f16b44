import { getAddress, isAddress, verifyMessage } from "viem";
import {
  FeatureDisabledError,
  ForbiddenError,
  InvalidSignatureError,
  InvalidTaskInputError,
  ReplayError,
} from "../errors.js";
import type { SessionRegistry } from "../sessions.js";
import type { TaskStore } from "../tasks.js";
import type { EncryptionAllowList } from "./allow-list.js";
import type { PayloadKeyring } from "./keyring.js";

/** A key request as the route hands it over. */
export interface KeyRequest {
  scope: "session" | "task";
  address: string;
  sessionId: number;
  taskId?: number | undefined;
  signature: string;
  /** Unix seconds; when given, the fresh message form is signed (see {@link keyMessage}). */
  timestamp?: number | undefined;
}

/** An issued key. */
export interface IssuedKey {
  address: string;
  session_id: number;
  task_id: number | null;
  scope: "session" | "task";
  algorithm: "AES-256-GCM";
  key_version: string;
  key: string;
}

const FRESHNESS_S = 300;

/**
 * The message the wallet signs (EIP-191 personal_sign, UTF-8):
 * - seed form: `{sessionId}` (session key) or `{sessionId}:{taskId}` (task key); accepted once.
 * - fresh form (with `timestamp`): `payload_enc_key:session:{sessionId}:{ts}` or
 *   `payload_enc_key:task:{sessionId}:{taskId}:{ts}`, valid ±300 s, each accepted once.
 */
export function keyMessage(r: Omit<KeyRequest, "address" | "signature">): string {
  const ids = r.scope === "task" ? `${r.sessionId}:${r.taskId}` : `${r.sessionId}`;
  return r.timestamp === undefined ? ids : `payload_enc_key:${r.scope}:${ids}:${r.timestamp}`;
}

/** Issues payload-encryption keys to allow-listed wallets whose signature verifies, once per signature. */
export class PayloadKeyIssuer {
  private readonly used = new Map<string, number>();

  constructor(
    private readonly keyring: PayloadKeyring | undefined,
    private readonly allowList: EncryptionAllowList,
    private readonly sessions: SessionRegistry,
    private readonly tasks: TaskStore,
    private readonly maxRemembered = 100_000,
  ) {}

  async issue(r: KeyRequest, nowS = Math.floor(Date.now() / 1000)): Promise<IssuedKey> {
    if (this.keyring === undefined) {
      throw new FeatureDisabledError(
        "payload encryption is not configured on this router (ENCRYPTION_SEED)",
      );
    }
    if (!isAddress(r.address, { strict: false })) {
      throw new InvalidTaskInputError("address is not a 0x-prefixed 20-byte address", {
        field: "address",
      });
    }
    if (!/^0x[0-9a-fA-F]{130}$/.test(r.signature)) {
      throw new InvalidTaskInputError("signature must be a 65-byte 0x-prefixed hex string", {
        field: "signature",
      });
    }
    const session = this.sessions.get(r.sessionId);
    if (!session.private) {
      throw new InvalidTaskInputError(`session ${session.id} is not a private session`, {
        session_id: session.id,
      });
    }
    if (r.scope === "task") this.tasks.get(r.sessionId, r.taskId ?? -1);
    if (r.timestamp !== undefined && Math.abs(nowS - r.timestamp) > FRESHNESS_S) {
      throw new InvalidSignatureError(
        `timestamp is outside ±${FRESHNESS_S} s of the router's clock`,
        {
          now: nowS,
        },
      );
    }
    const address = getAddress(r.address);
    const message = keyMessage(r);
    let ok = false;
    try {
      ok = await verifyMessage({ address, message, signature: r.signature as `0x${string}` });
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new InvalidSignatureError(
        `the signature of "${message}" does not verify for ${address}`,
        {
          message,
        },
      );
    }
    if (!this.allowList.allows(address, r.sessionId, r.scope === "task" ? r.taskId : undefined)) {
      throw new ForbiddenError(`${address} is not allowed to hold this ${r.scope} key`, {
        address,
        session_id: r.sessionId,
        ...(r.scope === "task" && { task_id: r.taskId }),
      });
    }
    this.remember(
      `${address}:${message}`,
      r.timestamp === undefined ? Number.MAX_SAFE_INTEGER : nowS + FRESHNESS_S,
      nowS,
    );
    const scope =
      r.scope === "task"
        ? this.keyring.taskScope(r.sessionId, r.taskId ?? 0)
        : this.keyring.sessionScope(r.sessionId);
    return {
      address,
      session_id: r.sessionId,
      task_id: r.scope === "task" ? (r.taskId ?? null) : null,
      scope: r.scope,
      algorithm: "AES-256-GCM",
      key_version: this.keyring.version,
      key: this.keyring.key(scope).toString("base64"),
    };
  }

  /** Refuse a signature seen before; remember it until it could no longer verify anyway. */
  private remember(id: string, expiresAtS: number, nowS: number): void {
    const until = this.used.get(id);
    if (until !== undefined && until >= nowS) {
      throw new ReplayError(
        "this signature was already used; sign a fresh message with a timestamp",
        {},
      );
    }
    this.used.set(id, expiresAtS);
    if (this.used.size > this.maxRemembered) {
      for (const [k, exp] of this.used) {
        if (exp < nowS || this.used.size > this.maxRemembered) this.used.delete(k);
        if (this.used.size <= this.maxRemembered) break;
      }
    }
  }
}
