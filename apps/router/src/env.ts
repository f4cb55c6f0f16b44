import { isHostPattern, WEB_FETCH_LIMITS } from "@portal/router";
import { z } from "zod";

const LogLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
const Flag = z.enum(["0", "1"]).default("0");
const SessionId = z.coerce.number().int().nonnegative().optional();
const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");
const Usd = z.string().regex(/^\d{1,9}(\.\d{1,6})?$/, "a USD amount such as 0.001");
/** A comma-separated host allowlist → its entries; names every entry that is not a host. */
const HostList = z.string().transform((s, ctx) => {
  const hosts = s
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "");
  const bad = hosts.filter((h) => !isHostPattern(h));
  if (hosts.length === 0 || bad.length > 0) {
    ctx.addIssue({
      code: "custom",
      message:
        bad.length > 0
          ? `not a host name, IP literal or *.suffix wildcard: ${bad.join(", ")}`
          : "list at least one host",
    });
    return z.NEVER;
  }
  return hosts;
});
const WebFetchKnob = (k: keyof typeof WEB_FETCH_LIMITS) =>
  z.coerce.number().int().min(WEB_FETCH_LIMITS[k].min).max(WEB_FETCH_LIMITS[k].max).optional();

/** Environment of a standalone router node. */
export const RouterEnvObject = z.object({
  ROUTER_HOST: z.string().min(1).default("127.0.0.1"),
  ROUTER_PORT: z.coerce.number().int().min(0).max(65_535).default(5010),
  ROUTER_API_KEY: z.string().min(8).optional(),
  ROUTER_MINER_TOKEN: z.string().min(8).optional(),
  ROUTER_CONFIG_FILE: z.string().min(1).optional(),
  ROUTER_DATA_DIR: z.string().min(1).default(".data/router"),
  /** Largest request body accepted (bytes); larger ones are 413 `payload_too_large`. */
  ROUTER_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(4 * 1024 * 1024),
  /** How long a request waits for a free miner when every miner is busy (ms). */
  ROUTER_QUEUE_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(3000),
  /** Bound on the SIGTERM drain (in-flight tasks finish, new ones get 503); past it: exit 1. */
  ROUTER_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  /** Where v2/v3 prompts and sealed results are stored: `fs` (ROUTER_DATA_DIR) or `s3`. */
  ROUTER_BLOB_BACKEND: z.enum(["fs", "s3"]).default("fs"),
  /** S3-compatible service (AWS S3, MinIO, R2, Akamai/Linode Object Storage…). */
  ROUTER_S3_ENDPOINT: z.url().optional(),
  ROUTER_S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name")
    .optional(),
  ROUTER_S3_REGION: z.string().min(1).default("us-east-1"),
  ROUTER_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  ROUTER_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  ROUTER_S3_SESSION_TOKEN: z.string().min(1).optional(),
  ROUTER_S3_PREFIX: z.string().max(512).default("prompts/"),
  /** 1: `{bucket}.{host}` addressing instead of path style (`{host}/{bucket}`). */
  ROUTER_S3_VIRTUAL_HOSTED: Flag,
  /** Blobs no retained task refers to are deleted once older than this (seconds). */
  ROUTER_BLOB_TTL_S: z.coerce.number().int().min(60).default(86_400),
  /** Public base URL (A2A card, x402 `resource`); default: the request's origin. */
  ROUTER_PUBLIC_URL: z.url().optional(),
  /** Take client IPs from X-Forwarded-For (trial quota); only behind a trusted reverse proxy. */
  ROUTER_TRUST_PROXY: Flag,
  // Factcheck sessions when a request names none.
  FACTCHECK_SESSION_ID: SessionId,
  FACTCHECK_STANDARD_SESSION_ID: SessionId,
  FACTCHECK_REALTIME_SESSION_ID: SessionId,
  /** Realtime factcheck evidence (Tavily search); without it realtime mode answers 503. */
  TAVILY_API_KEY: z.string().min(1).optional(),
  TAVILY_API_URL: z.url().default("https://api.tavily.com/search"),
  // Trial routes (/api/v{1,2}/trial/*).
  X402_ROUTER_NODE_TRIAL_ENABLE: Flag,
  X402_ROUTER_NODE_TRIAL_MAX_REQUESTS: z.coerce.number().int().min(1).default(1),
  X402_ROUTER_NODE_TRIAL_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  X402_ROUTER_NODE_TRIAL_COMPLETION_SESSION_ID: SessionId,
  X402_ROUTER_NODE_TRIAL_DELEGATE_SESSION_ID: SessionId,
  X402_ROUTER_NODE_TRIAL_VALIDATE_SESSION_ID: SessionId,
  X402_ROUTER_NODE_TRIAL_FACTCHECK_SESSION_ID: SessionId,
  // x402 routes (/api/v{1,2}/x402/*).
  X402_ROUTER_NODE_ENABLE: Flag,
  X402_ROUTER_NODE_NETWORK: z.enum(["base-sepolia", "base"]).default("base-sepolia"),
  X402_ROUTER_NODE_PAY_TO: Address.optional(),
  X402_ROUTER_NODE_PRICE_DEFAULT: Usd.default("0.001"),
  X402_ROUTER_NODE_PRICE_COMPLETIONS: Usd.default("0.001"),
  X402_ROUTER_NODE_DEFAULT_SESSION_ID: SessionId,
  X402_ROUTER_NODE_COMPLETION_SESSION_ID: SessionId,
  X402_ROUTER_NODE_DELEGATE_SESSION_ID: SessionId,
  X402_ROUTER_NODE_VALIDATE_SESSION_ID: SessionId,
  X402_ROUTER_NODE_FACTCHECK_SESSION_ID: SessionId,
  /** x402 facilitator base URL (POST {url}/settle); unset = in-process dev facilitator (no funds move). */
  X402_FACILITATOR_URL: z.url().optional(),
  // Private sessions.
  ENCRYPTION_SEED: z.string().min(16).optional(),
  ENCRYPTION_ALLOWED_LIST: z.string().default(""),
  /** `miner_id=0xaddr,…`: wallets whose signed results POST /api/v3/offchain/result accepts. */
  ROUTER_OFFCHAIN_MINERS: z
    .string()
    .regex(/^$|^[^=,\s]+=0x[0-9a-fA-F]{40}(,[^=,\s]+=0x[0-9a-fA-F]{40})*$/, "miner_id=0xaddr,…")
    .default(""),
  // MCP (Streamable HTTP) on the router's port.
  ROUTER_MCP: Flag,
  ROUTER_MCP_PATH: z
    .string()
    .regex(/^\/[\w\-/]*$/)
    .default("/mcp/messages"),
  /** Serve MCP on its own port (the spec's 8001) instead of the router's; unset = router port. */
  ROUTER_MCP_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  ROUTER_MCP_HOST: z.string().min(1).default("127.0.0.1"),
  /** 1: tools ignore the caller's session_id when they have a configured session. */
  ROUTER_MCP_ENFORCE_FIXED_SESSIONS: Flag,
  ROUTER_MCP_DEFAULT_SESSION_ID: SessionId,
  ROUTER_MCP_FACTCHECK_SESSION_ID: SessionId,
  ROUTER_MCP_COMPLETION_SESSION_ID: SessionId,
  ROUTER_MCP_DELEGATE_SESSION_ID: SessionId,
  ROUTER_MCP_VALIDATE_SESSION_ID: SessionId,
  ROUTER_MCP_TASKS_SESSION_ID: SessionId,
  // Delegate web fetch (fetch_web / input.kind "url"): on when hosts are listed here or in the file.
  /** Comma-separated allowlist: host names, IP literals or `*.suffix` wildcards. */
  ROUTER_WEB_FETCH_HOSTS: HostList.optional(),
  /** 1: also fetch hosts that are or resolve to loopback/private/link-local addresses. */
  ROUTER_WEB_FETCH_ALLOW_PRIVATE: z.enum(["0", "1"]).optional(),
  ROUTER_WEB_FETCH_TIMEOUT_MS: WebFetchKnob("timeout_ms"),
  ROUTER_WEB_FETCH_MAX_BYTES: WebFetchKnob("max_bytes"),
  ROUTER_WEB_FETCH_MAX_URLS: WebFetchKnob("max_urls"),
  LOG_LEVEL: LogLevel.default("info"),
});
/** The router env, with cross-field rules. */
export const RouterEnvSchema = RouterEnvObject.refine(
  (e) => e.X402_ROUTER_NODE_ENABLE === "0" || e.X402_ROUTER_NODE_PAY_TO !== undefined,
  { message: "required when X402_ROUTER_NODE_ENABLE=1", path: ["X402_ROUTER_NODE_PAY_TO"] },
).superRefine((e, ctx) => {
  if (e.ROUTER_BLOB_BACKEND !== "s3") return;
  for (const key of [
    "ROUTER_S3_ENDPOINT",
    "ROUTER_S3_BUCKET",
    "ROUTER_S3_ACCESS_KEY_ID",
    "ROUTER_S3_SECRET_ACCESS_KEY",
  ] as const) {
    if (e[key] === undefined) {
      ctx.addIssue({
        code: "custom",
        message: "required when ROUTER_BLOB_BACKEND=s3",
        path: [key],
      });
    }
  }
});
export type RouterAppEnv = z.infer<typeof RouterEnvSchema>;

/** Parse an env object; the error message names every bad variable. */
export function parseRouterEnv(source: Record<string, string | undefined>): RouterAppEnv {
  // Empty strings count as unset, as shells and compose files often export them that way.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ""));
  const parsed = RouterEnvSchema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
  throw new Error(`invalid environment:\n${lines.join("\n")}`);
}

/** Read `process.env` once, exiting non-zero with the bad variables named. */
export function readRouterEnv(): RouterAppEnv {
  try {
    return parseRouterEnv(process.env);
  } catch (err) {
    process.stderr.write(`router: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
