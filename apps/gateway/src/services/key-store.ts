import { apiKeys, type Database, eq, organizations, plans } from "@portal/db";
import { SwrCache } from "../lib/swr-cache.js";

/** Everything the hot path needs to know about a key, loaded in one query. */
export interface KeyRecord {
  keyId: string;
  orgId: string;
  orgStatus: "active" | "disabled";
  planId: string;
  planSlug: string;
  disabled: boolean;
  revokedAt: Date | null;
  expiresAt: Date | null;
  billingMode: "free" | "prepaid" | "postpaid";
  /** Effective limits: the key's overrides where set, the plan's otherwise. */
  limits: KeyLimits;
}

export interface KeyLimits {
  keyRequestsPerMinute: number;
  orgRequestsPerMinute: number;
  orgTokensPerMinute: number;
  /** Only when the key has its own token override (plans limit tokens per org). */
  keyTokensPerMinute: number | null;
  keyConcurrency: number;
  /** Requests per ISO week for the org; null = no weekly allowance. */
  weeklyAllowance: number | null;
}

/** The invalidation message meaning "every key" (SHA-256 hex never equals it). */
const ALL_KEYS = "*";

/** Looks keys up by hash, through an in-process SWR cache with negative caching. */
export class KeyStore {
  private readonly cache: SwrCache<KeyRecord>;
  /** Announces an invalidation to the other gateway instances (set when Redis is configured). */
  publish: ((keyHash: string) => void) | null = null;

  constructor(private readonly db: Database) {
    this.cache = new SwrCache<KeyRecord>(
      { freshMs: 10_000, staleMs: 600_000, negativeTtlMs: 5_000, maxEntries: 100_000 },
      (hash) => this.load(hash),
    );
  }

  /** The key with this SHA-256 hash, or null when no such key exists. */
  find(keyHash: string): Promise<KeyRecord | null> {
    return this.cache.get(keyHash);
  }

  /**
   * Forget a key so the next request reads the database (revocation, disable, roll), here and,
   * through `publish`, on every other gateway instance.
   */
  invalidate(keyHash: string): void {
    this.cache.invalidate(keyHash);
    this.publish?.(keyHash);
  }

  /**
   * Forget every cached key here and on every other instance (a plan's limits changed, and
   * every key of every org on it carries them). Published as the hash `*`, which no key has.
   */
  invalidateAll(): void {
    this.cache.clear();
    this.publish?.(ALL_KEYS);
  }

  /** Forget a key in this process only (an invalidation received from another instance). */
  evictLocal(keyHash: string): void {
    if (keyHash === ALL_KEYS) this.cache.clear();
    else this.cache.invalidate(keyHash);
  }

  /** Forget every cached key (lost pub/sub connection: messages may have been missed). */
  evictAllLocal(): void {
    this.cache.clear();
  }

  private async load(keyHash: string): Promise<KeyRecord | null> {
    const rows = await this.db
      .select({
        keyId: apiKeys.id,
        orgId: apiKeys.orgId,
        disabled: apiKeys.disabled,
        revokedAt: apiKeys.revokedAt,
        expiresAt: apiKeys.expiresAt,
        orgStatus: organizations.status,
        planId: plans.id,
        planSlug: plans.slug,
        billingMode: plans.billingMode,
        keyRpm: apiKeys.rpmLimit,
        keyTpm: apiKeys.tpmLimit,
        keyConcurrency: apiKeys.concurrencyLimit,
        planKeyRpm: plans.requestsPerMinuteKey,
        planOrgRpm: plans.requestsPerMinuteOrg,
        planOrgTpm: plans.tokensPerMinuteOrg,
        planConcurrency: plans.maxConcurrentPerKey,
        weeklyAllowance: plans.weeklyRequestAllowance,
      })
      .from(apiKeys)
      .innerJoin(organizations, eq(organizations.id, apiKeys.orgId))
      .innerJoin(plans, eq(plans.id, organizations.planId))
      .where(eq(apiKeys.keyHash, keyHash))
      .limit(1);
    const r = rows[0];
    if (!r) return null;
    return {
      keyId: r.keyId,
      orgId: r.orgId,
      orgStatus: r.orgStatus,
      planId: r.planId,
      planSlug: r.planSlug,
      disabled: r.disabled,
      revokedAt: r.revokedAt,
      expiresAt: r.expiresAt,
      billingMode: r.billingMode,
      // A per-key override only ever tightens the plan: one set under a larger plan stops
      // counting above the new plan's limit when the org moves to a smaller one.
      limits: {
        keyRequestsPerMinute: tighter(r.keyRpm, r.planKeyRpm),
        orgRequestsPerMinute: r.planOrgRpm,
        orgTokensPerMinute: r.planOrgTpm,
        keyTokensPerMinute: r.keyTpm === null ? null : tighter(r.keyTpm, r.planOrgTpm),
        keyConcurrency: tighter(r.keyConcurrency, r.planConcurrency),
        weeklyAllowance: r.weeklyAllowance,
      },
    };
  }
}

/** The override when set and below the plan's limit, else the plan's limit. */
function tighter(override: number | null, plan: number): number {
  return override === null ? plan : Math.min(override, plan);
}
