import { type Database, sql } from "@portal/db";
import type { Logger } from "pino";

/**
 * `api_keys.last_used_at` without a write per request: remember the latest use per key in
 * memory and write them all in one UPDATE at most once per interval (default a minute), only
 * ever moving the timestamp forward (several instances may write the same key).
 */
export class KeyActivity {
  private pending = new Map<string, Date>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    intervalMs = 60_000,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Note a use of the key (no I/O). */
  touch(keyId: string, at = new Date()): void {
    const prev = this.pending.get(keyId);
    if (!prev || prev < at) this.pending.set(keyId, at);
  }

  /** Write every pending timestamp in one statement. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const values = sql.join(
      [...batch].map(([id, at]) => sql`(${id}, ${at.toISOString()}::timestamptz)`),
      sql`, `,
    );
    try {
      await this.db.execute(sql`
        UPDATE api_keys AS k SET last_used_at = v.at
        FROM (VALUES ${values}) AS v(id, at)
        WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)`);
    } catch (err) {
      // Put them back (keeping the newer of each) for the next attempt.
      for (const [id, at] of batch) this.touch(id, at);
      this.logger.warn({ err, keys: batch.size }, "last_used_at flush failed; will retry");
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
