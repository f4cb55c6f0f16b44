import { readFileSync } from "node:fs";
import path from "node:path";
import { type Database, DEFAULT_MIGRATIONS_FOLDER, rowsOf, sql } from "@portal/db";

/** Why an instance answers `/readyz` with 503. */
export type NotReadyReason = "shutting_down" | "database_unreachable" | "migrations_pending";

/** What `/readyz` reports; `reason` is set exactly when `ready` is false. */
export interface ReadinessReport {
  ready: boolean;
  reason?: NotReadyReason;
  /** Ready, but serving without these (warm caches and queued usage stand in for them). */
  degraded?: Array<"database">;
  checks: {
    shutting_down: boolean;
    database: "ok" | "unreachable" | "skipped";
    migrations: { applied: number; expected: number } | null;
  };
}

/** A periodic background job owned by the process lifecycle (partition maintenance, …). */
export interface BackgroundJob {
  start(): void;
  stop(): Promise<void>;
}

export interface LifecycleOptions {
  /** Count of migrations recorded as applied in the database (one cheap query). */
  appliedMigrations: () => Promise<number>;
  /** Count of migrations this build carries. */
  expectedMigrations: () => number;
  /** A database check slower than this counts as unreachable (default 2000 ms). */
  checkTimeoutMs?: number;
  /** Started by {@link Lifecycle.startJobs} once the instance serves; stopped at shutdown. */
  jobs?: BackgroundJob[];
}

/**
 * Process lifecycle as the probes see it. Liveness never depends on anything here; readiness is
 * "not shutting down, database answers, every migration this build carries is applied". Redis is
 * deliberately not a readiness dependency: limits and usage degrade to local fallbacks without it,
 * so taking every replica out of rotation when Redis blips would turn a degradation into an outage.
 * The same holds for Postgres once this replica has been ready: warm requests need no database
 * round trip (keys, plans, models and pools are cached; usage is queued), and every replica shares
 * the one database, so failing readiness on an outage would pull all of them out of rotation at
 * once. A replica that has never been ready (cold caches, migrations unverified) stays out.
 */
export class Lifecycle {
  private shuttingDown = false;
  /** Set by the first fully ready check: caches can be warm and the schema is known good. */
  private everReady = false;
  readonly startedAt = Date.now();

  constructor(private readonly opts: LifecycleOptions) {}

  /** True once shutdown has begun; never goes back. */
  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Flip readiness to 503 for the rest of the process's life (first step of shutdown). */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  /** Start the background jobs (main.ts, once serving; tests build services without them). */
  startJobs(): void {
    if (this.shuttingDown) return;
    for (const job of this.opts.jobs ?? []) job.start();
  }

  /** Stop the background jobs, waiting for a run in progress. */
  async stopJobs(): Promise<void> {
    await Promise.all((this.opts.jobs ?? []).map((j) => j.stop()));
  }

  /** Evaluate readiness; never throws. */
  async readiness(): Promise<ReadinessReport> {
    if (this.shuttingDown) {
      return {
        ready: false,
        reason: "shutting_down",
        checks: { shutting_down: true, database: "skipped", migrations: null },
      };
    }
    let applied: number;
    try {
      applied = await withTimeout(this.opts.appliedMigrations(), this.opts.checkTimeoutMs ?? 2000);
    } catch {
      if (this.everReady) {
        return {
          ready: true,
          degraded: ["database"],
          checks: { shutting_down: false, database: "unreachable", migrations: null },
        };
      }
      return {
        ready: false,
        reason: "database_unreachable",
        checks: { shutting_down: false, database: "unreachable", migrations: null },
      };
    }
    const migrations = { applied, expected: this.opts.expectedMigrations() };
    // More applied than expected is fine: a newer replica migrated first during a rolling deploy.
    const ready = applied >= migrations.expected;
    if (ready) this.everReady = true;
    return {
      ready,
      ...(ready ? {} : { reason: "migrations_pending" as const }),
      checks: { shutting_down: false, database: "ok", migrations },
    };
  }
}

/** Build the lifecycle over a drizzle database and the checked-in migrations folder. */
export function createLifecycle(
  db: Database,
  migrationsFolder: string = DEFAULT_MIGRATIONS_FOLDER,
  jobs: BackgroundJob[] = [],
): Lifecycle {
  let expected: number | undefined;
  return new Lifecycle({
    jobs,
    appliedMigrations: () => countAppliedMigrations(db),
    // Read lazily and once: building services does no I/O, and the journal cannot change under us.
    expectedMigrations: () => {
      expected ??= journalEntryCount(migrationsFolder);
      return expected;
    },
  });
}

/** Rows in drizzle's migrations table; throws when the database does not answer. */
export async function countAppliedMigrations(db: Database): Promise<number> {
  const result = await db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  const [row] = rowsOf<{ n: number | string }>(result);
  return Number(row?.n ?? 0);
}

/** Entries in drizzle-kit's `meta/_journal.json` of a migrations folder. */
export function journalEntryCount(migrationsFolder: string): number {
  const journal = JSON.parse(
    readFileSync(path.join(migrationsFolder, "meta", "_journal.json"), "utf8"),
  ) as { entries?: unknown[] };
  return journal.entries?.length ?? 0;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
