import { defaultRouterConfig } from "@portal/router";
import { describe, expect, it } from "vitest";
import { parseRouterEnv } from "./env.js";
import { applyEnvFeatures } from "./features.js";

describe("router env", () => {
  it("applies defaults", () => {
    expect(parseRouterEnv({})).toMatchObject({
      ROUTER_HOST: "127.0.0.1",
      ROUTER_PORT: 5010,
      ROUTER_DATA_DIR: ".data/router",
      ROUTER_QUEUE_TIMEOUT_MS: 3000,
      ROUTER_BLOB_TTL_S: 86_400,
      ROUTER_SHUTDOWN_TIMEOUT_MS: 30_000,
      X402_ROUTER_NODE_ENABLE: "0",
      X402_ROUTER_NODE_TRIAL_ENABLE: "0",
      X402_ROUTER_NODE_TRIAL_MAX_REQUESTS: 1,
      X402_ROUTER_NODE_TRIAL_WINDOW_SECONDS: 900,
      ROUTER_MCP: "0",
      LOG_LEVEL: "info",
    });
  });

  it("names every bad variable", () => {
    expect(() =>
      parseRouterEnv({ ROUTER_PORT: "http", LOG_LEVEL: "loud", ROUTER_API_KEY: "short" }),
    ).toThrow(/ROUTER_PORT[\s\S]*ROUTER_API_KEY[\s\S]*LOG_LEVEL/);
    expect(() => parseRouterEnv({ X402_ROUTER_NODE_ENABLE: "1" })).toThrow(
      /X402_ROUTER_NODE_PAY_TO/,
    );
    expect(() =>
      parseRouterEnv({ ENCRYPTION_SEED: "short", ROUTER_OFFCHAIN_MINERS: "m1" }),
    ).toThrow(/ENCRYPTION_SEED[\s\S]*ROUTER_OFFCHAIN_MINERS/);
    expect(() =>
      parseRouterEnv({ ROUTER_BLOB_BACKEND: "s3", ROUTER_S3_ENDPOINT: "http://127.0.0.1:9000" }),
    ).toThrow(/ROUTER_S3_BUCKET[\s\S]*ROUTER_S3_ACCESS_KEY_ID[\s\S]*ROUTER_S3_SECRET_ACCESS_KEY/);
    expect(() => parseRouterEnv({ ROUTER_S3_BUCKET: "Bad_Bucket" })).toThrow(/ROUTER_S3_BUCKET/);
    expect(
      parseRouterEnv({
        ROUTER_BLOB_BACKEND: "s3",
        ROUTER_S3_ENDPOINT: "http://127.0.0.1:9000",
        ROUTER_S3_BUCKET: "portal-blobs",
        ROUTER_S3_ACCESS_KEY_ID: "id",
        ROUTER_S3_SECRET_ACCESS_KEY: "secret",
      }),
    ).toMatchObject({ ROUTER_S3_REGION: "us-east-1", ROUTER_S3_PREFIX: "prompts/" });
  });

  it("turns the feature variables into the router config the library takes", () => {
    const env = parseRouterEnv({
      FACTCHECK_SESSION_ID: "20",
      FACTCHECK_REALTIME_SESSION_ID: "25",
      X402_ROUTER_NODE_TRIAL_ENABLE: "1",
      X402_ROUTER_NODE_TRIAL_MAX_REQUESTS: "3",
      X402_ROUTER_NODE_TRIAL_COMPLETION_SESSION_ID: "6",
      X402_ROUTER_NODE_ENABLE: "1",
      X402_ROUTER_NODE_PAY_TO: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
      X402_ROUTER_NODE_PRICE_COMPLETIONS: "0.002",
      X402_ROUTER_NODE_DELEGATE_SESSION_ID: "18",
      ENCRYPTION_ALLOWED_LIST: "68:0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
      ROUTER_OFFCHAIN_MINERS: "m1=0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
      ROUTER_MCP: "1",
      ROUTER_MCP_TASKS_SESSION_ID: "17",
      ROUTER_MCP_DEFAULT_SESSION_ID: "19",
      ROUTER_MCP_FACTCHECK_SESSION_ID: "20",
      ROUTER_MCP_PORT: "8001",
      ROUTER_MCP_ENFORCE_FIXED_SESSIONS: "1",
      ROUTER_PUBLIC_URL: "https://router.example",
    });
    const config = applyEnvFeatures(defaultRouterConfig(), env);
    expect(config).toMatchObject({
      factcheck: { session_id: 20, realtime_session_id: 25 },
      trial: { enabled: true, max_requests: 3, window_seconds: 900, sessions: { completions: 6 } },
      x402: {
        enabled: true,
        network: "base-sepolia",
        price_completions: "0.002",
        sessions: { delegate: 18 },
      },
      privacy: { allowed_list: "68:0x209693Bc6afc0C5328bA36FaF03C514EF312287C" },
      offchain: { miners: { m1: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C" } },
      mcp: {
        enabled: true,
        path: "/mcp/messages",
        listen: { host: "127.0.0.1", port: 8001 },
        enforce_fixed_sessions: true,
        sessions: { tasks: 17, default: 19, factcheck: 20 },
      },
      a2a: { public_url: "https://router.example" },
    });
    expect(applyEnvFeatures(defaultRouterConfig(), parseRouterEnv({}))).toEqual(
      defaultRouterConfig(),
    );
  });
});
