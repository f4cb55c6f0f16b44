import { readFileSync } from "node:fs";
import { z } from "zod";
import { isHostPattern } from "./core/web-fetch/policy.js";

const seconds = z.number().positive().max(86_400);

const SessionFields = z.object({
  id: z.int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  model: z.string().min(1).max(256),
  mode: z.enum(["dedicated", "ephemeral"]),
  miners: z.array(z.string().min(1)).optional(),
  redundancy: z.int().min(1).max(64).optional(),
  private: z.boolean().optional(),
  timeout: seconds.optional(),
  precommit_timeout: seconds.optional(),
  max_tokens: z.int().min(1).max(1_000_000).optional(),
  context_length: z.int().min(1).max(10_000_000).optional(),
  /** Seconds a task may wait for a free miner when all are busy (default: the node's bound). */
  queue_timeout: z.number().min(0).max(600).optional(),
});

type SessionShape = Omit<z.infer<typeof SessionFields>, "id">;

function checkSession(s: SessionShape, ctx: z.RefinementCtx): void {
  if (s.mode === "dedicated" && (s.miners === undefined || s.miners.length === 0)) {
    ctx.addIssue({
      code: "custom",
      message: "a dedicated session lists its miners",
      path: ["miners"],
    });
  }
  if (
    s.timeout !== undefined &&
    s.precommit_timeout !== undefined &&
    s.timeout <= s.precommit_timeout
  ) {
    ctx.addIssue({
      code: "custom",
      message: "timeout must be greater than precommit_timeout",
      path: ["timeout"],
    });
  }
}

/** One session as written in the router's config file. */
export const SessionConfigSchema = SessionFields.superRefine(checkSession);

/** Body of `POST /api/v1/sessions`: a session whose id the router may choose. */
export const NewSessionSchema = SessionFields.extend({ id: SessionFields.shape.id.optional() })
  .strict()
  .superRefine(checkSession);
export type SessionConfig = z.infer<typeof SessionConfigSchema>;

const SessionId = z.int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");
const UsdPrice = z.string().regex(/^\d{1,9}(\.\d{1,6})?$/, "a USD amount such as 0.001");

/** v3 replica tier → the predefined sessions its replicas run on (round-robin). */
const V3Pool = z
  .object({
    "1": z.array(SessionId).min(1).max(15).optional(),
    "3": z.array(SessionId).min(1).max(15).optional(),
    "5": z.array(SessionId).min(1).max(15).optional(),
  })
  .strict();

/** Bounds of the `web_fetch` knobs; the router app's env schema uses the same ones. */
export const WEB_FETCH_LIMITS = {
  timeout_ms: { min: 100, max: 120_000, default: 10_000 },
  max_bytes: { min: 1024, max: 50 * 1024 * 1024, default: 1024 * 1024 },
  max_urls: { min: 1, max: 20, default: 3 },
} as const;

const bounded = (k: keyof typeof WEB_FETCH_LIMITS) =>
  z
    .int()
    .min(WEB_FETCH_LIMITS[k].min)
    .max(WEB_FETCH_LIMITS[k].max)
    .default(WEB_FETCH_LIMITS[k].default);

/** Router features beyond sessions (issue 4); every block is optional. */
export const RouterFeaturesSchema = z.object({
  /** Delegate/validate v3: replica tier → session pool. */
  v3_pools: z.object({ delegate: V3Pool.optional(), validate: V3Pool.optional() }).optional(),
  /** Factcheck sessions when the request names none (FACTCHECK_<MODE>_SESSION_ID / FACTCHECK_SESSION_ID). */
  factcheck: z
    .object({
      session_id: SessionId.optional(),
      standard_session_id: SessionId.optional(),
      realtime_session_id: SessionId.optional(),
    })
    .optional(),
  /** `/api/v{1,2}/trial/…`: public, quota per client IP. */
  trial: z
    .object({
      enabled: z.boolean().default(false),
      max_requests: z.int().min(1).max(1_000_000).default(1),
      window_seconds: z
        .int()
        .min(1)
        .max(31 * 86_400)
        .default(900),
      /** Take the client IP from X-Forwarded-For (only behind a trusted reverse proxy). */
      trust_proxy: z.boolean().default(false),
      sessions: z
        .object({
          completions: SessionId.optional(),
          delegate: SessionId.optional(),
          validate: SessionId.optional(),
          factcheck: SessionId.optional(),
        })
        .optional(),
    })
    .optional(),
  /** `/api/v{1,2}/x402/…`: x402 v1 payments (exact scheme, EIP-3009 USDC). */
  x402: z
    .object({
      enabled: z.boolean().default(false),
      network: z.enum(["base-sepolia", "base"]).default("base-sepolia"),
      pay_to: Address,
      /** Token contract; defaults to USDC on the network. */
      asset: Address.optional(),
      /** EIP-712 domain of the token; defaults to USDC's on the network. */
      asset_name: z.string().min(1).optional(),
      asset_version: z.string().min(1).optional(),
      price_default: UsdPrice.default("0.001"),
      price_completions: UsdPrice.default("0.001"),
      max_timeout_seconds: z.int().min(10).max(3600).default(300),
      /** Fixed sessions: when set, the caller's session_id is ignored. */
      sessions: z
        .object({
          default: SessionId.optional(),
          completions: SessionId.optional(),
          delegate: SessionId.optional(),
          validate: SessionId.optional(),
          factcheck: SessionId.optional(),
        })
        .optional(),
    })
    .optional(),
  /** A2A discovery card. */
  a2a: z
    .object({
      enabled: z.boolean().default(true),
      /** Public base URL of the router (default: the request's origin). */
      public_url: z.url().optional(),
      name: z.string().min(1).max(200).optional(),
      description: z.string().min(1).max(2000).optional(),
      organization: z.string().min(1).max(200).optional(),
    })
    .optional(),
  /** Who may fetch payload-encryption keys: ENCRYPTION_ALLOWED_LIST format. */
  privacy: z.object({ allowed_list: z.string().max(100_000).default("") }).optional(),
  /** Miner id → wallet address whose EIP-191 signature `POST /api/v3/offchain/result` accepts. */
  offchain: z.object({ miners: z.record(z.string().min(1), Address) }).optional(),
  /**
   * Delegate v2/v3 web fetch (`fetch_web: true`, `input.kind: "url"`): on when this block is
   * present; only allowlisted hosts, and never private addresses unless `allow_private`.
   */
  web_fetch: z
    .object({
      /** Exact host names / IP literals, or `*.suffix` (any name below suffix). Case-insensitive. */
      hosts: z
        .array(
          z
            .string()
            .refine(isHostPattern, "a host name, an IP literal or a *.suffix wildcard")
            .transform((h) => h.trim()),
        )
        .min(
          1,
          "list at least one host (web_fetch.hosts in the config file, or ROUTER_WEB_FETCH_HOSTS)",
        )
        .max(1000),
      /** Fetch hosts that are or resolve to loopback/private/link-local… addresses (tests, labs). */
      allow_private: z.boolean().default(false),
      /** Bound on one page's fetch: every redirect hop and the whole body. */
      timeout_ms: bounded("timeout_ms"),
      /** Largest body read (as received); a larger one fails the request, it is not truncated. */
      max_bytes: bounded("max_bytes"),
      /** Pages one request may fetch (an `input.kind: "url"` page counts). */
      max_urls: bounded("max_urls"),
    })
    .strict()
    .optional(),
  /** MCP server (Streamable HTTP) on the router's port. */
  mcp: z
    .object({
      enabled: z.boolean().default(false),
      path: z
        .string()
        .regex(/^\/[\w\-/]*$/)
        .default("/mcp/messages"),
      /**
       * Serve MCP on its own listener (the spec's 127.0.0.1:8001) instead of the router's port;
       * the router's port then does not answer the MCP path.
       */
      listen: z
        .object({
          host: z.string().min(1).default("127.0.0.1"),
          port: z.int().min(0).max(65_535),
        })
        .optional(),
      /** Ignore the caller's session_id when the tool has a configured session. */
      enforce_fixed_sessions: z.boolean().default(false),
      sessions: z
        .object({
          default: SessionId.optional(),
          completion: SessionId.optional(),
          delegate: SessionId.optional(),
          validate: SessionId.optional(),
          tasks: SessionId.optional(),
          factcheck: SessionId.optional(),
        })
        .optional(),
    })
    .optional(),
});
export type RouterFeatures = z.input<typeof RouterFeaturesSchema>;
export type ResolvedFeatures = z.output<typeof RouterFeaturesSchema>;

/** The router's config file. */
export const RouterConfigSchema = z
  .object({
    sessions: z.array(SessionConfigSchema),
    default_session_id: z.int().nonnegative().optional(),
    ...RouterFeaturesSchema.shape,
  })
  .refine((c) => new Set(c.sessions.map((s) => s.id)).size === c.sessions.length, {
    message: "session ids must be unique",
    path: ["sessions"],
  })
  .refine(
    (c) =>
      c.default_session_id === undefined || c.sessions.some((s) => s.id === c.default_session_id),
    { message: "default_session_id names no configured session", path: ["default_session_id"] },
  );

export type RouterConfig = {
  sessions: Array<{
    id: number;
    model: string;
    mode: "dedicated" | "ephemeral";
    miners?: string[];
    redundancy?: number;
    private?: boolean;
    timeout?: number;
    precommit_timeout?: number;
    max_tokens?: number;
    context_length?: number;
    queue_timeout?: number;
  }>;
  default_session_id?: number;
} & RouterFeatures;

/** A parsed config: feature blocks have their defaults applied. */
export type ParsedRouterConfig = z.output<typeof RouterConfigSchema>;

/** Thrown when a router config (file or object) does not validate. */
export class RouterConfigError extends Error {
  override name = "RouterConfigError";
}

/** Validate a config object, naming every bad field in one message. */
export function parseRouterConfig(value: unknown, source = "router config"): ParsedRouterConfig {
  const parsed = RouterConfigSchema.safeParse(value);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  - ${i.path.length > 0 ? i.path.join(".") : "(root)"}: ${i.message}`,
    );
    throw new RouterConfigError(`invalid ${source}:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

/** Read and validate a router config file (JSON); throws a RouterConfigError that says why. */
export function loadRouterConfig(file: string): ParsedRouterConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new RouterConfigError(`cannot read router config ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RouterConfigError(`router config ${file} is not JSON: ${(err as Error).message}`);
  }
  return parseRouterConfig(json, `router config ${file}`);
}

/** The config used when none is given: session 0, model "demo", ephemeral, redundancy 1. */
export function defaultRouterConfig(): RouterConfig {
  return {
    sessions: [{ id: 0, model: "demo", mode: "ephemeral", redundancy: 1 }],
    default_session_id: 0,
  };
}
