import type { QueuedUsage } from "./persist.js";

/**
 * Whether a write failed because of the data itself (a constraint or data exception: SQLSTATE
 * classes 22 and 23), so retrying the same rows can never succeed. Connection loss, timeouts
 * and serialization failures are transient and are not. Drivers and drizzle wrap errors, so
 * the `cause` chain is searched.
 */
export function isPermanentWriteError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^2[23][0-9A-Z]{3}$/.test(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Persist a batch; if it fails permanently, persist its items one by one so one poison entry
 * (say, usage of an org deleted by hand) cannot hold every other entry hostage forever. Items
 * that fail alone go to `onDead`; transient failures are rethrown for the caller to retry.
 */
export async function persistIsolatingPoison(
  persist: (items: QueuedUsage[]) => Promise<unknown>,
  items: QueuedUsage[],
  onDead: (item: QueuedUsage, err: unknown) => Promise<void>,
): Promise<void> {
  try {
    await persist(items);
    return;
  } catch (err) {
    if (!isPermanentWriteError(err) || items.length === 0) throw err;
  }
  for (const item of items) {
    try {
      await persist([item]);
    } catch (err) {
      if (!isPermanentWriteError(err)) throw err;
      await onDead(item, err);
    }
  }
}
