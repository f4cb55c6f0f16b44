import {
  type Database,
  type Model,
  modelAccess,
  models,
  routerPools,
  routerTargets,
} from "@portal/db";
import type { Logger } from "pino";
import { SwrCache } from "../lib/swr-cache.js";
import type { SecretBox } from "./secret-box.js";

export interface TargetInfo {
  id: string;
  url: string;
  sessionId: number;
  /** Decrypted router bearer key; lives in memory only. */
  routerKey: string;
  weight: number;
  state: "active" | "draining" | "disabled";
}

export interface PoolInfo {
  id: string;
  name: string;
  state: "active" | "draining" | "disabled";
  targets: TargetInfo[];
}

export interface ModelRoute {
  model: Model;
  pool: PoolInfo;
}

interface AccessRule {
  planId: string | null;
  orgId: string | null;
  allowed: boolean;
}

interface Snapshot {
  byAlias: Map<string, ModelRoute>;
  pools: PoolInfo[];
  access: Map<string, AccessRule[]>;
}

/**
 * The routing table (models, pools, targets, access rules), small enough to hold whole in
 * memory: loaded at once, fresh for a few seconds, revalidated in the background.
 */
export class Catalog {
  private readonly cache: SwrCache<Snapshot>;

  constructor(
    private readonly db: Database,
    private readonly secrets: SecretBox,
    private readonly logger: Logger,
    freshMs = 5_000,
  ) {
    this.cache = new SwrCache<Snapshot>(
      { freshMs, staleMs: 10 * 60_000, negativeTtlMs: 1_000, maxEntries: 1 },
      () => this.load(),
    );
  }

  /** The model behind a public alias, with its pool and targets; null when unknown. */
  async resolve(alias: string): Promise<ModelRoute | null> {
    const snap = await this.snapshot();
    const route = snap.byAlias.get(alias);
    return route && route.model.state === "active" ? route : null;
  }

  /** Whether an org on a plan may use a model (an org rule overrides its plan's rule). */
  async isAllowed(model: Model, planId: string, orgId: string): Promise<boolean> {
    const rules = (await this.snapshot()).access.get(model.id) ?? [];
    const orgRule = rules.find((r) => r.orgId === orgId);
    if (orgRule) return orgRule.allowed;
    const planRule = rules.find((r) => r.planId === planId && r.orgId === null);
    if (planRule) return planRule.allowed;
    return model.visibility === "public";
  }

  /** Active models this org may use, sorted by alias. */
  async listAllowed(planId: string, orgId: string): Promise<Model[]> {
    const snap = await this.snapshot();
    const out: Model[] = [];
    for (const { model } of snap.byAlias.values()) {
      if (model.state === "active" && (await this.isAllowed(model, planId, orgId))) out.push(model);
    }
    return out.sort((a, b) => a.alias.localeCompare(b.alias));
  }

  /** Every pool with its targets (for /health). */
  async pools(): Promise<PoolInfo[]> {
    return (await this.snapshot()).pools;
  }

  /** Announces an invalidation to the other gateway instances (set when Redis is configured). */
  publish: (() => void) | null = null;

  /** Reload on next use (after an admin change), here and on every other instance. */
  invalidate(): void {
    this.cache.clear();
    this.publish?.();
  }

  /** Reload on next use in this process only (an invalidation from another instance). */
  evictLocal(): void {
    this.cache.clear();
  }

  private async snapshot(): Promise<Snapshot> {
    const snap = await this.cache.get("all");
    if (!snap) throw new Error("catalog failed to load");
    return snap;
  }

  private async load(): Promise<Snapshot> {
    const [poolRows, targetRows, modelRows, accessRows] = await Promise.all([
      this.db.select().from(routerPools),
      this.db.select().from(routerTargets),
      this.db.select().from(models),
      this.db.select().from(modelAccess),
    ]);
    const pools = new Map<string, PoolInfo>();
    for (const p of poolRows)
      pools.set(p.id, { id: p.id, name: p.name, state: p.state, targets: [] });
    for (const t of targetRows) {
      const pool = pools.get(t.poolId);
      if (!pool) continue;
      let routerKey: string;
      try {
        routerKey = this.secrets.decrypt(t.routerKeyCiphertext);
      } catch {
        // A key sealed with another encryption key cannot be used; leave the target out loudly.
        this.logger.error({ targetId: t.id }, "router key cannot be decrypted; target skipped");
        continue;
      }
      pool.targets.push({
        id: t.id,
        url: t.url.replace(/\/+$/, ""),
        sessionId: t.sessionId,
        routerKey,
        weight: t.weight,
        state: t.state,
      });
    }
    const byAlias = new Map<string, ModelRoute>();
    for (const m of modelRows) {
      const pool = pools.get(m.poolId);
      if (pool) byAlias.set(m.alias, { model: m, pool });
    }
    const access = new Map<string, AccessRule[]>();
    for (const a of accessRows) {
      const list = access.get(a.modelId) ?? [];
      list.push({ planId: a.planId, orgId: a.orgId, allowed: a.allowed });
      access.set(a.modelId, list);
    }
    return { byAlias, pools: [...pools.values()], access };
  }
}
