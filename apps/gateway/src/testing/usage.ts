import { newId } from "@portal/contracts";
import type { QueuedUsage } from "../services/usage/persist.js";

/**
 * One served request's usage for tests that feed the usage pipeline directly: a fresh request id,
 * the tenant's org and key, 1 prompt + 2 completion tokens, `charge` micro-USD as both its cost
 * and its prepaid charge (0 for an uncharged request).
 */
export function usageItem(
  t: { orgId: string; keyId: string; alias?: string; poolName?: string },
  opts: { charge?: bigint; createdAt?: Date } = {},
): QueuedUsage {
  const charge = opts.charge ?? 0n;
  return {
    event: {
      requestId: newId("req"),
      orgId: t.orgId,
      apiKeyId: t.keyId,
      modelAlias: t.alias ?? "m",
      routerPool: t.poolName ?? "p",
      route: "/v1/completions",
      status: "ok",
      promptTokens: 1,
      completionTokens: 2,
      costMicros: charge,
      latencyMs: 3,
      upstreamMs: 2,
      createdAt: opts.createdAt ?? new Date(),
    },
    chargeMicros: charge,
  };
}
