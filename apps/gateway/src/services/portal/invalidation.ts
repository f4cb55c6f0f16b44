import type { Services } from "../services.js";

/**
 * The one place admin and portal mutations announce config changes. The key store and catalog
 * evict locally and, when Redis is configured, publish on the invalidation bus so every gateway
 * instance drops the entry within a second.
 */
export const invalidation = {
  /** Models, pools, targets or access rules changed. */
  catalogChanged(services: Pick<Services, "catalog">): void {
    services.catalog.invalidate();
  },
  /** Keys changed (revoked, rolled, disabled, limits) or their org's status or plan did. */
  keysChanged(services: Pick<Services, "keys">, keyHashes: readonly string[]): void {
    for (const hash of keyHashes) services.keys.invalidate(hash);
  },
  /** A plan's limits changed: every cached key may carry them. */
  plansChanged(services: Pick<Services, "keys">): void {
    services.keys.invalidateAll();
  },
};
