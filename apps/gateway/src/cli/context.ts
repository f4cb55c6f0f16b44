import path from "node:path";
import { newId } from "@portal/contracts";
import {
  and,
  apiKeys,
  asc,
  type Database,
  type DbHandle,
  eq,
  models,
  openDb,
  or,
  organizations,
  routerPools,
  users,
} from "@portal/db";
import { Redis } from "ioredis";
import pino, { type Logger } from "pino";
import type { GatewayEnv } from "../env.js";
import { Catalog } from "../services/catalog.js";
import { loadSecretBox } from "../services/encryption-key.js";
import { InvalidationBus } from "../services/invalidation-bus.js";
import { KeyStore } from "../services/key-store.js";
import type { ActorContext, OrgContext } from "../services/portal/context.js";
import { invalidation } from "../services/portal/invalidation.js";
import type { SecretBox } from "../services/secret-box.js";
import { UsageError } from "./command.js";

/** How a change reached running gateways, as the CLI reports it. */
export type Propagation = "published" | "ttl";

/**
 * What a command runs against: the gateway's own database (DATABASE_URL, or the embedded PGlite
 * in PORTAL_DATA_DIR/pglite), its secret box, and the invalidation bus of running gateways.
 * Everything is opened on first use and closed by {@link CliContext.close}.
 */
export class CliContext {
  private handle: DbHandle | null = null;
  private box: SecretBox | null = null;
  private bus: { bus: InvalidationBus; pub: Redis; sub: Redis } | null = null;
  private caches: { keys: KeyStore; catalog: Catalog } | null = null;
  private actorCtx: ActorContext | null = null;
  readonly logger: Logger;
  /** Audit rows of this invocation carry it as their request id (`cli_…`, greppable). */
  readonly invocationId = newId("req").replace(/^req_/, "cli_");

  constructor(
    readonly env: GatewayEnv,
    private readonly actorEmail: string | undefined,
  ) {
    // Logs go to stderr so `--json` output on stdout stays parseable.
    this.logger = pino({ level: "warn", base: { service: "portal-cli" } }, pino.destination(2));
  }

  /** The database handle, opened on first use (not migrated: see `portal migrate`). */
  async dbHandle(): Promise<DbHandle> {
    if (!this.handle) {
      this.handle = await openDb({
        url: this.env.DATABASE_URL,
        dataDir: path.join(path.resolve(this.env.PORTAL_DATA_DIR), "pglite"),
        poolSize: 2,
      });
    }
    return this.handle;
  }

  async db(): Promise<Database> {
    return (await this.dbHandle()).db;
  }

  /** The key sealing router keys: PORTAL_ENCRYPTION_KEY, or the one the gateway generated. */
  secrets(): SecretBox {
    if (!this.box) {
      this.box = loadSecretBox({
        configured: this.env.PORTAL_ENCRYPTION_KEY,
        dataDir: path.resolve(this.env.PORTAL_DATA_DIR),
        production: this.env.NODE_ENV === "production",
      }).box;
    }
    return this.box;
  }

  /**
   * The operator the CLI acts as (`--as EMAIL`, else the oldest active operator), so every
   * change is audited like the admin API's: actor kind `operator`, this invocation's id.
   */
  async actor(): Promise<ActorContext> {
    if (this.actorCtx) return this.actorCtx;
    const db = await this.db();
    const where = this.actorEmail
      ? and(eq(users.email, this.actorEmail.toLowerCase()), eq(users.isOperator, true))
      : and(eq(users.isOperator, true), eq(users.status, "active"));
    const [user] = await db
      .select({ id: users.id, status: users.status })
      .from(users)
      .where(where)
      .orderBy(asc(users.createdAt))
      .limit(1);
    if (!user && this.actorEmail) {
      throw new UsageError(`no operator with email '${this.actorEmail}'`);
    }
    if (!user) {
      throw new Error(
        "no operator user in this database (start the gateway once to bootstrap one, or pass --as EMAIL)",
      );
    }
    if (user.status !== "active") throw new UsageError(`operator '${this.actorEmail}' is disabled`);
    this.actorCtx = { userId: user.id, kind: "operator", requestId: this.invocationId };
    return this.actorCtx;
  }

  /** The actor inside an org given by id or slug. */
  async orgActor(org: string): Promise<OrgContext> {
    return { ...(await this.actor()), orgId: await this.resolveOrg(org) };
  }

  /** An org id from an id or a slug. */
  async resolveOrg(org: string): Promise<string> {
    const db = await this.db();
    const [row] = await db
      .select({ id: organizations.id })
      .from(organizations)
      .where(or(eq(organizations.id, org), eq(organizations.slug, org)))
      .limit(1);
    if (!row) throw new UsageError(`no organization '${org}' (id or slug; see 'portal orgs list')`);
    return row.id;
  }

  /** The org of a key (keys are addressed by id alone on the command line). */
  async orgOfKey(keyId: string): Promise<OrgContext> {
    const db = await this.db();
    const [row] = await db
      .select({ orgId: apiKeys.orgId })
      .from(apiKeys)
      .where(eq(apiKeys.id, keyId))
      .limit(1);
    if (!row) throw new UsageError(`no API key '${keyId}' (see 'portal keys list')`);
    return { ...(await this.actor()), orgId: row.orgId };
  }

  /** A pool id from an id or a name. */
  async resolvePool(pool: string): Promise<string> {
    const db = await this.db();
    const [row] = await db
      .select({ id: routerPools.id })
      .from(routerPools)
      .where(or(eq(routerPools.id, pool), eq(routerPools.name, pool)))
      .limit(1);
    if (!row) throw new UsageError(`no pool '${pool}' (id or name; see 'portal pools list')`);
    return row.id;
  }

  /** A model id from an id or an alias. */
  async resolveModel(model: string): Promise<string> {
    const db = await this.db();
    const [row] = await db
      .select({ id: models.id })
      .from(models)
      .where(or(eq(models.id, model), eq(models.alias, model)))
      .limit(1);
    if (!row) throw new UsageError(`no model '${model}' (id or alias; see 'portal models list')`);
    return row.id;
  }

  /**
   * Connect the invalidation bus (with REDIS_URL) before a change is made, so an unreachable
   * Redis refuses the command instead of leaving running gateways uninformed.
   */
  async prepareInvalidation(): Promise<void> {
    if (this.caches) return;
    const db = await this.db();
    const keys = new KeyStore(db);
    const catalog = new Catalog(db, this.secrets(), this.logger);
    const url = this.env.REDIS_URL;
    if (url) {
      const connect = (name: string) => {
        const conn = new Redis(url, {
          connectionName: `portal-cli-${name}`,
          lazyConnect: true,
          connectTimeout: 5_000,
          maxRetriesPerRequest: 1,
          retryStrategy: () => null,
        });
        conn.on("error", () => {});
        return conn;
      };
      const pub = connect("pub");
      const sub = connect("sub");
      try {
        await Promise.all([pub.connect(), sub.connect()]);
        const bus = new InvalidationBus(pub, sub, keys, catalog, this.logger);
        await bus.start();
        this.bus = { bus, pub, sub };
      } catch (err) {
        pub.disconnect();
        sub.disconnect();
        throw new Error(
          `REDIS_URL is set but Redis is unreachable (${(err as Error).message}); nothing was changed`,
        );
      }
    }
    this.caches = { keys, catalog };
  }

  /** Tell running gateways that these keys changed (the same path as the admin API). */
  async keysChanged(hashes: readonly string[]): Promise<Propagation> {
    await this.prepareInvalidation();
    if (this.caches) invalidation.keysChanged(this.caches, hashes);
    return this.bus ? "published" : "ttl";
  }

  /** Tell running gateways that models, pools or targets changed. */
  async catalogChanged(): Promise<Propagation> {
    await this.prepareInvalidation();
    if (this.caches) invalidation.catalogChanged(this.caches);
    return this.bus ? "published" : "ttl";
  }

  /** Flush pending publishes, then close Redis and the database. */
  async close(): Promise<void> {
    if (this.bus) {
      const { bus, pub } = this.bus;
      await bus.close();
      // QUIT is answered after every PUBLISH queued before it: nothing is lost on exit.
      await pub.quit().catch(() => pub.disconnect());
      this.bus = null;
    }
    if (this.handle) {
      await this.handle.close();
      this.handle = null;
    }
  }
}

/** One line saying how the change reaches running gateways. */
export function propagationNote(p: Propagation): string {
  return p === "published"
    ? "Running gateways were told over Redis (effective within a second)."
    : "No REDIS_URL: running gateways pick this up when their cache entry expires (keys ≤ 10 s, models/pools ≤ 5 s).";
}
