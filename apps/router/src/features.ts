import type { RouterConfig } from "@portal/router";
import type { RouterAppEnv } from "./env.js";

const defined = <T extends Record<string, unknown>>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * Merge the env's feature settings into the router config (file or default): a block set through
 * env replaces what the file says for the same keys. The library never reads process.env itself.
 */
export function applyEnvFeatures(config: RouterConfig, env: RouterAppEnv): RouterConfig {
  const out: RouterConfig = { ...config };
  const factcheck = defined({
    session_id: env.FACTCHECK_SESSION_ID,
    standard_session_id: env.FACTCHECK_STANDARD_SESSION_ID,
    realtime_session_id: env.FACTCHECK_REALTIME_SESSION_ID,
  });
  if (Object.keys(factcheck).length > 0) out.factcheck = { ...config.factcheck, ...factcheck };
  if (env.X402_ROUTER_NODE_TRIAL_ENABLE === "1") {
    out.trial = {
      ...config.trial,
      enabled: true,
      max_requests: env.X402_ROUTER_NODE_TRIAL_MAX_REQUESTS,
      window_seconds: env.X402_ROUTER_NODE_TRIAL_WINDOW_SECONDS,
      trust_proxy: env.ROUTER_TRUST_PROXY === "1",
      sessions: {
        ...config.trial?.sessions,
        ...defined({
          completions: env.X402_ROUTER_NODE_TRIAL_COMPLETION_SESSION_ID,
          delegate: env.X402_ROUTER_NODE_TRIAL_DELEGATE_SESSION_ID,
          validate: env.X402_ROUTER_NODE_TRIAL_VALIDATE_SESSION_ID,
          factcheck: env.X402_ROUTER_NODE_TRIAL_FACTCHECK_SESSION_ID,
        }),
      },
    };
  }
  if (env.X402_ROUTER_NODE_ENABLE === "1" && env.X402_ROUTER_NODE_PAY_TO !== undefined) {
    out.x402 = {
      ...config.x402,
      enabled: true,
      network: env.X402_ROUTER_NODE_NETWORK,
      pay_to: env.X402_ROUTER_NODE_PAY_TO,
      price_default: env.X402_ROUTER_NODE_PRICE_DEFAULT,
      price_completions: env.X402_ROUTER_NODE_PRICE_COMPLETIONS,
      sessions: {
        ...config.x402?.sessions,
        ...defined({
          default: env.X402_ROUTER_NODE_DEFAULT_SESSION_ID,
          completions: env.X402_ROUTER_NODE_COMPLETION_SESSION_ID,
          delegate: env.X402_ROUTER_NODE_DELEGATE_SESSION_ID,
          validate: env.X402_ROUTER_NODE_VALIDATE_SESSION_ID,
          factcheck: env.X402_ROUTER_NODE_FACTCHECK_SESSION_ID,
        }),
      },
    };
  }
  if (env.ROUTER_PUBLIC_URL !== undefined) {
    out.a2a = { ...config.a2a, public_url: env.ROUTER_PUBLIC_URL };
  }
  if (env.ENCRYPTION_ALLOWED_LIST !== "") {
    out.privacy = { allowed_list: env.ENCRYPTION_ALLOWED_LIST };
  }
  if (env.ROUTER_OFFCHAIN_MINERS !== "") {
    const miners: Record<string, string> = { ...config.offchain?.miners };
    for (const pair of env.ROUTER_OFFCHAIN_MINERS.split(",")) {
      const [id, addr] = pair.split("=");
      if (id !== undefined && addr !== undefined) miners[id] = addr;
    }
    out.offchain = { miners };
  }
  if (env.ROUTER_MCP === "1") {
    out.mcp = {
      ...config.mcp,
      enabled: true,
      path: env.ROUTER_MCP_PATH,
      ...(env.ROUTER_MCP_PORT !== undefined && {
        listen: { host: env.ROUTER_MCP_HOST, port: env.ROUTER_MCP_PORT },
      }),
      enforce_fixed_sessions:
        env.ROUTER_MCP_ENFORCE_FIXED_SESSIONS === "1" ||
        config.mcp?.enforce_fixed_sessions === true,
      sessions: {
        ...config.mcp?.sessions,
        ...defined({
          default: env.ROUTER_MCP_DEFAULT_SESSION_ID,
          completion: env.ROUTER_MCP_COMPLETION_SESSION_ID,
          delegate: env.ROUTER_MCP_DELEGATE_SESSION_ID,
          validate: env.ROUTER_MCP_VALIDATE_SESSION_ID,
          tasks: env.ROUTER_MCP_TASKS_SESSION_ID,
          factcheck: env.ROUTER_MCP_FACTCHECK_SESSION_ID,
        }),
      },
    };
  }
  const webFetch = defined({
    allow_private:
      env.ROUTER_WEB_FETCH_ALLOW_PRIVATE === undefined
        ? undefined
        : env.ROUTER_WEB_FETCH_ALLOW_PRIVATE === "1",
    timeout_ms: env.ROUTER_WEB_FETCH_TIMEOUT_MS,
    max_bytes: env.ROUTER_WEB_FETCH_MAX_BYTES,
    max_urls: env.ROUTER_WEB_FETCH_MAX_URLS,
  });
  if (env.ROUTER_WEB_FETCH_HOSTS !== undefined || Object.keys(webFetch).length > 0) {
    // Knobs without any hosts (env or file) leave hosts empty: the config check then fails the
    // start naming ROUTER_WEB_FETCH_HOSTS, rather than ignoring the knobs.
    out.web_fetch = {
      ...config.web_fetch,
      ...webFetch,
      hosts: env.ROUTER_WEB_FETCH_HOSTS ?? config.web_fetch?.hosts ?? [],
    };
  }
  return out;
}
