import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Catalog } from "../catalog.js";

const ROUTES = new Set(["/health", "/metrics", "/v1/models", "/v1/completions", "/v1/usage"]);

/** Route label with bounded cardinality: known routes by name, everything else `other`. */
export function routeLabel(path: string): string {
  return ROUTES.has(path) ? path : "other";
}

/**
 * The gateway's Prometheus metrics, in a registry of its own per services instance (two apps in
 * one process, as in tests, do not collide).
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"route" | "method" | "status">;
  readonly latency: Histogram<"route">;
  readonly overhead: Histogram<"route">;
  readonly tokens: Counter<"model" | "kind">;
  readonly refusals: Counter<"code" | "scope">;
  readonly upstreamFailures: Counter<"pool" | "target" | "reason">;
  readonly redisFallbacks: Counter<"op">;

  constructor(opts: {
    catalog: Catalog;
    usageDepth: () => Promise<number>;
    /** 1 while Redis serves limits and usage, 0 while the local fallbacks do; unset without Redis. */
    redisUp?: () => number;
    defaultMetrics?: boolean;
  }) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: "portal_http_requests_total",
      help: "HTTP requests by route, method and status",
      labelNames: ["route", "method", "status"],
      registers,
    });
    const buckets = [
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120,
    ];
    this.latency = new Histogram({
      name: "portal_http_request_duration_seconds",
      help: "Total request latency, upstream included",
      labelNames: ["route"],
      buckets,
      registers,
    });
    this.overhead = new Histogram({
      name: "portal_gateway_overhead_seconds",
      help: "Time spent in the gateway itself (latency minus upstream time)",
      labelNames: ["route"],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.tokens = new Counter({
      name: "portal_tokens_total",
      help: "Tokens served, by model alias and kind (prompt | completion)",
      labelNames: ["model", "kind"],
      registers,
    });
    this.refusals = new Counter({
      name: "portal_limit_refusals_total",
      help: "Requests refused by limits, allowance or balance",
      labelNames: ["code", "scope"],
      registers,
    });
    this.upstreamFailures = new Counter({
      name: "portal_upstream_failures_total",
      help: "Router target failures (unavailable, error, timeout)",
      labelNames: ["pool", "target", "reason"],
      registers,
    });
    this.redisFallbacks = new Counter({
      name: "portal_redis_fallbacks_total",
      help: "Calls served by the local fallback because Redis was unreachable (limits, balance, usage)",
      labelNames: ["op"],
      registers,
    });
    const redisUp = opts.redisUp;
    if (redisUp) {
      new Gauge({
        name: "portal_redis_up",
        help: "1 while Redis serves limits, balances and usage; 0 while local fallbacks do",
        registers,
        collect() {
          this.set(redisUp());
        },
      });
    }
    new Gauge({
      name: "portal_usage_queue_depth",
      help: "Usage entries appended but not yet committed to Postgres",
      registers,
      async collect() {
        try {
          this.set(await opts.usageDepth());
        } catch {
          this.set(-1);
        }
      },
    });
    new Gauge({
      name: "portal_target_up",
      help: "Router target state: 1 active, 0.5 draining, 0 disabled",
      labelNames: ["pool", "target"],
      registers,
      async collect() {
        this.reset();
        for (const pool of await opts.catalog.pools()) {
          for (const t of pool.targets) {
            const v = t.state === "active" ? 1 : t.state === "draining" ? 0.5 : 0;
            this.set({ pool: pool.name, target: t.id }, v);
          }
        }
      },
    });
  }
}
