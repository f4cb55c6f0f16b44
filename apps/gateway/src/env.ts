import { z } from "zod";

/** Every environment variable the gateway reads. Nothing else touches `process.env`. */
export const GatewayEnv = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  PORTAL_DATA_DIR: z.string().default(".data"),
  /** 32 bytes, base64 or hex; encrypts router keys at rest. Generated into the data dir when unset outside production. */
  PORTAL_ENCRYPTION_KEY: z.string().optional(),
  PORTAL_BOOTSTRAP_KEY: z
    .string()
    .regex(
      /^cx_live_[1-9A-HJ-NP-Za-km-z]{40}$/,
      "must be cx_live_ followed by 40 base58 characters",
    )
    .optional(),
  PORTAL_BOOTSTRAP_EMAIL: z.email().default("admin@portal.local"),
  /** Embedded router nodes to start in-process (0 = none; production runs routers separately). */
  EMBEDDED_ROUTERS: z.coerce.number().int().min(0).max(8).default(2),
  EMBEDDED_ROUTER_BASE_PORT: z.coerce.number().int().min(1).max(65_000).default(5010),
  EMBEDDED_MINERS_PER_ROUTER: z.coerce.number().int().min(0).max(32).default(3),
  DEMO_TOKEN_DELAY_MS: z.coerce.number().int().min(0).max(1000).default(5),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  UPSTREAM_MARGIN_MS: z.coerce.number().int().min(0).default(10_000),
  /** Active health checks of router targets (`GET /api/v1/status`); 0 disables them. */
  HEALTH_CHECK_INTERVAL_MS: z.coerce.number().int().min(0).default(5_000),
  USAGE_FLUSH_INTERVAL_MS: z.coerce.number().int().min(10).default(1000),
  /** request_logs days kept (daily partitions; older ones are dropped by the partition job). */
  REQUEST_LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(14),
  /** Upper bound on graceful shutdown (drain, flush, close); past it the process exits 1. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(20_000),
  /** After SIGTERM, keep serving with /readyz at 503 this long before closing the listener. */
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).max(120_000).default(0),
  /** A Redis command slower than this fails over to the local fallbacks (limits, balance, usage). */
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /** After a Redis failure, serve from the local fallbacks this long before probing Redis again. */
  REDIS_BREAKER_COOLDOWN_MS: z.coerce.number().int().min(50).max(600_000).default(1_000),
  /** Run a usage stream writer in this instance (with REDIS_URL); false for API-only replicas. */
  /** `thread`: run the writer in a worker thread with its own pool (needs DATABASE_URL). */
  USAGE_WRITER: z.enum(["true", "false", "thread"]).default("true"),
  /** Bearer token for GET /metrics; unset = loopback clients only, and off in production. */
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  /** Proxies in front of the gateway that append X-Forwarded-For (nginx, an ingress): 0–5. */
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(5).default(0),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Signs portal session JWTs. Generated into the data dir when unset outside production. */
  PORTAL_SESSION_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  PORTAL_SESSION_TTL_HOURS: z.coerce.number().int().min(1).max(2160).default(168),
  /** Password for the bootstrap operator (first start); generated and printed once when unset. */
  PORTAL_BOOTSTRAP_PASSWORD: z.string().min(10, "must be at least 10 characters").optional(),
  /** External identity provider (Clerk, Supabase Auth, any OIDC issuer): all three or none. */
  PORTAL_OIDC_ISSUER: z.string().min(1).optional(),
  PORTAL_OIDC_AUDIENCE: z.string().min(1).optional(),
  PORTAL_OIDC_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Built web app served at /portal and /admin; defaults to apps/portal/dist in this checkout. */
  PORTAL_WEB_DIR: z.string().optional(),
  /** Stripe secret key (`sk_…`); unset = no credit purchases, metered usage waits in the outbox. */
  STRIPE_SECRET_KEY: z.string().min(1).optional(),
  /** Signing secret of the webhook endpoint (`whsec_…`); required to accept Stripe webhooks. */
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** Stripe meter `event_name` for postpaid usage (value = micro-USD per org, model and hour). */
  STRIPE_METER_EVENT_NAME: z.string().min(1).max(100).default("portal_usage_micros"),
  /** Override of Stripe's API base URL (tests, stripe-mock, an egress proxy). */
  STRIPE_API_BASE: z.url({ protocol: /^https?$/ }).optional(),
  /** Where Checkout sends the customer back (defaults: the portal billing page). */
  STRIPE_SUCCESS_URL: z.url({ protocol: /^https?$/ }).optional(),
  STRIPE_CANCEL_URL: z.url({ protocol: /^https?$/ }).optional(),
});
export type GatewayEnv = z.infer<typeof GatewayEnv>;

/** Parse an environment; on failure the error lists one line per bad variable. */
export function parseEnv(
  source: NodeJS.ProcessEnv,
): { ok: true; env: GatewayEnv } | { ok: false; errors: string[] } {
  // Empty strings mean "unset", as they do in most deployment tools.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ""));
  const parsed = GatewayEnv.safeParse(cleaned);
  if (parsed.success) {
    const errors = incompleteOidc(parsed.data).map(
      (k) => `${k}: set all three PORTAL_OIDC_* or none`,
    );
    if (parsed.data.USAGE_WRITER === "thread" && !parsed.data.DATABASE_URL) {
      errors.push("USAGE_WRITER: thread needs DATABASE_URL (PGlite lives in one thread)");
    }
    if (errors.length === 0) return { ok: true, env: parsed.data };
    return { ok: false, errors };
  }
  return { ok: false, errors: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) };
}

/** Parse the environment or exit non-zero naming every bad variable. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): GatewayEnv {
  const result = parseEnv(source);
  if (result.ok) return result.env;
  console.error(`Invalid environment:\n${result.errors.map((e) => `  ${e}`).join("\n")}`);
  process.exit(1);
}

/** The PORTAL_OIDC_* variables missing when some but not all are set. */
function incompleteOidc(env: GatewayEnv): string[] {
  const vars = {
    PORTAL_OIDC_ISSUER: env.PORTAL_OIDC_ISSUER,
    PORTAL_OIDC_AUDIENCE: env.PORTAL_OIDC_AUDIENCE,
    PORTAL_OIDC_JWKS_URL: env.PORTAL_OIDC_JWKS_URL,
  };
  const missing = Object.entries(vars).filter(([, v]) => v === undefined);
  return missing.length === 3 ? [] : missing.map(([k]) => k);
}
