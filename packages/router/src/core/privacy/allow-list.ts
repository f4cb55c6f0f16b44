import { getAddress, isAddress } from "viem";

/**
 * `ENCRYPTION_ALLOWED_LIST`: `session_id:addr1,addr2;session_id-task_id:addr3`. A session entry
 * allows its session key and every task key of the session; a task entry only that task's key.
 */
export class EncryptionAllowList {
  private readonly sessions = new Map<number, Set<string>>();
  private readonly tasks = new Map<string, Set<string>>();

  constructor(spec: string) {
    for (const raw of spec.split(";")) {
      const entry = raw.trim();
      if (entry === "") continue;
      const m = /^(\d+)(?:-(\d+))?:(.+)$/.exec(entry);
      if (m === null || m[1] === undefined || m[3] === undefined) {
        throw new Error(`ENCRYPTION_ALLOWED_LIST: bad entry "${entry.slice(0, 80)}"`);
      }
      const addrs = m[3]
        .split(",")
        .map((a) => a.trim())
        .filter(Boolean);
      const set = new Set<string>();
      for (const a of addrs) {
        if (!isAddress(a, { strict: false })) {
          throw new Error(`ENCRYPTION_ALLOWED_LIST: "${a.slice(0, 60)}" is not an address`);
        }
        set.add(getAddress(a));
      }
      const target = m[2] === undefined ? this.sessions : this.tasks;
      const key = m[2] === undefined ? Number(m[1]) : `${m[1]}-${m[2]}`;
      const existing = (target as Map<number | string, Set<string>>).get(key) ?? new Set<string>();
      for (const a of set) existing.add(a);
      (target as Map<number | string, Set<string>>).set(key, existing);
    }
  }

  /** May `address` have the key of this session (taskId undefined) or of this task? */
  allows(address: string, sessionId: number, taskId?: number): boolean {
    const a = getAddress(address);
    if (this.sessions.get(sessionId)?.has(a) === true) return true;
    return taskId !== undefined && this.tasks.get(`${sessionId}-${taskId}`)?.has(a) === true;
  }
}
