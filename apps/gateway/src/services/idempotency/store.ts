import { createHash } from "node:crypto";
import { and, type Database, eq, idempotencyKeys, lt, sql } from "@portal/db";
import { IdempotencyConflictError } from "../../domain-errors.js";

/** How long a stored response is replayed. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;

export type IdempotencyClaim =
  | {
      kind: "owner";
      complete(status: number, body: string): Promise<void>;
      abandon(): Promise<void>;
    }
  | { kind: "replay"; status: number; body: string };

/** SHA-256 of the raw request body: "same body" means byte-identical. */
export function hashBody(body: string): string {
  return createHash("sha256").update(body).digest("hex");
}

/**
 * What a key is bound to: the body, and the route it was sent to (the same bytes mean different
 * work on /v1/messages and /v1/chat/completions, so a key used on one must not replay on the
 * other). /v1/completions hashes the body alone, as every key stored before routes counted did.
 */
export function requestHashOf(route: string, body: string): string {
  return hashBody(route === "/v1/completions" ? body : `${route}\n${body}`);
}

/**
 * `Idempotency-Key` over Postgres, scoped per org. The primary key (org, key) decides who runs:
 * the INSERT that wins owns the key; everyone else replays the stored response, or is told
 * `in_progress` while the owner still runs. An owner that crashed is taken over once its lock
 * (`lockMs`, 10 minutes from the completion route) has passed.
 */
export class IdempotencyStore {
  constructor(private readonly db: Database) {}

  async claim(input: {
    orgId: string;
    key: string;
    /** The route the request was sent to (part of what the key is bound to). */
    route: string;
    body: string;
    requestId: string;
    lockMs: number;
    now?: Date;
  }): Promise<IdempotencyClaim> {
    const now = input.now ?? new Date();
    const requestHash = requestHashOf(input.route, input.body);
    const owner = (): IdempotencyClaim => ({
      kind: "owner",
      complete: async (status, body) => {
        await this.db
          .update(idempotencyKeys)
          .set({ state: "completed", responseStatus: status, responseBody: body })
          .where(this.mine(input.orgId, input.key, input.requestId));
      },
      abandon: async () => {
        await this.db
          .delete(idempotencyKeys)
          .where(this.mine(input.orgId, input.key, input.requestId));
      },
    });
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await this.db
        .insert(idempotencyKeys)
        .values({
          orgId: input.orgId,
          key: input.key,
          requestHash,
          state: "in_progress",
          requestId: input.requestId,
          lockedUntil: new Date(now.getTime() + input.lockMs),
          createdAt: now,
          expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
        })
        .onConflictDoNothing()
        .returning({ requestId: idempotencyKeys.requestId });
      if (inserted.length > 0) return owner();

      const [row] = await this.db
        .select()
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.orgId, input.orgId), eq(idempotencyKeys.key, input.key)));
      if (!row) continue; // deleted in between (abandoned or expired): try to insert again
      if (row.expiresAt <= now) {
        await this.db
          .delete(idempotencyKeys)
          .where(this.mine(input.orgId, input.key, row.requestId));
        continue;
      }
      if (row.requestHash !== requestHash) throw new IdempotencyConflictError("body_mismatch");
      if (row.state === "completed" && row.responseStatus !== null && row.responseBody !== null) {
        return { kind: "replay", status: row.responseStatus, body: row.responseBody };
      }
      if (row.lockedUntil > now) throw new IdempotencyConflictError("in_progress");
      // The owner died mid-request: take the key over (one winner: the UPDATE matches its id).
      const taken = await this.db
        .update(idempotencyKeys)
        .set({
          requestId: input.requestId,
          lockedUntil: new Date(now.getTime() + input.lockMs),
        })
        .where(this.mine(input.orgId, input.key, row.requestId))
        .returning({ requestId: idempotencyKeys.requestId });
      if (taken.length > 0) return owner();
    }
    throw new IdempotencyConflictError("in_progress");
  }

  /** Delete expired records (run periodically; expired keys are also ignored on read). */
  async purgeExpired(now = new Date()): Promise<number> {
    const rows = await this.db
      .delete(idempotencyKeys)
      .where(lt(idempotencyKeys.expiresAt, now))
      .returning({ key: sql`1` });
    return rows.length;
  }

  private mine(orgId: string, key: string, requestId: string) {
    return and(
      eq(idempotencyKeys.orgId, orgId),
      eq(idempotencyKeys.key, key),
      eq(idempotencyKeys.requestId, requestId),
    );
  }
}
