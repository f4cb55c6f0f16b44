import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { ensureUpcomingPartitions } from "./partitions.js";
import * as schema from "./schema/index.js";

export type Schema = typeof schema;
/** The drizzle database, whichever driver is underneath. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

export interface DbHandle {
  db: Database;
  kind: "postgres" | "pglite";
  /** Run raw SQL (maintenance, tests). */
  exec(sql: string): Promise<void>;
  /**
   * Apply every pending migration from `migrations/` (safe to call from many instances), then make
   * sure the current and upcoming time partitions exist.
   */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDbOptions {
  /** `postgres://…`; when absent the embedded PGlite database in `dataDir` is used. */
  url?: string | undefined;
  /** Directory for PGlite's files; `memory://` keeps it in memory (tests). */
  dataDir?: string | undefined;
  /** Max pooled connections for real Postgres. */
  poolSize?: number | undefined;
  /** Folder of drizzle-kit SQL migrations; defaults to the repository's `migrations/`. */
  migrationsFolder?: string | undefined;
}

/** The checked-in migrations folder at the repository root. */
export const DEFAULT_MIGRATIONS_FOLDER = fileURLToPath(
  new URL("../../../migrations", import.meta.url),
);

// Any fixed 64-bit number; all instances use it to serialize migrations.
const MIGRATION_LOCK_ID = 727_001_2026;

/** Open real Postgres when a URL is given, PGlite (Postgres in WASM) otherwise. */
export async function openDb(opts: OpenDbOptions): Promise<DbHandle> {
  const migrationsFolder = opts.migrationsFolder ?? DEFAULT_MIGRATIONS_FOLDER;
  if (opts.url) {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 5_000,
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on("error", () => {});
    // A checked-out client whose server goes away (Postgres restarting) emits 'error' too; without
    // a listener that would crash the process. Its query rejects, and the pool drops it on release.
    pool.on("connect", (client) => {
      client.on("error", () => {});
    });
    const db = drizzlePg(pool, { schema, casing: "snake_case" }) as unknown as Database;
    return {
      db,
      kind: "postgres",
      exec: async (sql) => {
        await pool.query(sql);
      },
      migrate: async () => {
        // One dedicated connection holds a session advisory lock while migrating, so gateway
        // replicas starting together apply each migration exactly once.
        const client = await pool.connect();
        try {
          await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_ID]);
          await migratePg(drizzlePg(client), { migrationsFolder });
        } finally {
          await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_ID]).catch(() => {});
          client.release();
        }
        await ensureUpcomingPartitions(db);
      },
      close: () => pool.end(),
    };
  }
  const dataDir = opts.dataDir ?? "memory://";
  if (!dataDir.startsWith("memory://")) mkdirSync(path.resolve(dataDir), { recursive: true });
  const client = await PGlite.create(dataDir);
  const db = drizzlePglite(client, { schema, casing: "snake_case" }) as unknown as Database;
  return {
    db,
    kind: "pglite",
    exec: async (sql) => {
      await client.exec(sql);
    },
    migrate: async () => {
      await migratePglite(drizzlePglite(client), { migrationsFolder });
      await ensureUpcomingPartitions(db);
    },
    close: () => client.close(),
  };
}
