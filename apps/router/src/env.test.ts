import { defaultRouterConfig, parseRouterConfig } from "@portal/router";
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

describe("router env — web fetch", () => {
  const withHosts = { hosts: ["docs.example.com"], timeout_ms: 2000 };

  it("is off unless hosts are given, and the defaults leave the config alone", () => {
    const env = parseRouterEnv({});
    expect(env.ROUTER_WEB_FETCH_HOSTS).toBeUndefined();
    expect(applyEnvFeatures(defaultRouterConfig(), env).web_fetch).toBeUndefined();
  });

  it("turns ROUTER_WEB_FETCH_* into the web_fetch block", () => {
    const env = parseRouterEnv({
      ROUTER_WEB_FETCH_HOSTS: " docs.example.com, *.Wiki.example ,127.0.0.1",
      ROUTER_WEB_FETCH_ALLOW_PRIVATE: "1",
      ROUTER_WEB_FETCH_TIMEOUT_MS: "2500",
      ROUTER_WEB_FETCH_MAX_BYTES: "65536",
      ROUTER_WEB_FETCH_MAX_URLS: "5",
    });
    const config = parseRouterConfig(applyEnvFeatures(defaultRouterConfig(), env));
    expect(config.web_fetch).toEqual({
      hosts: ["docs.example.com", "*.Wiki.example", "127.0.0.1"],
      allow_private: true,
      timeout_ms: 2500,
      max_bytes: 65_536,
      max_urls: 5,
    });
  });

  it("overrides the file's keys it sets and keeps the others", () => {
    const file = { ...defaultRouterConfig(), web_fetch: withHosts };
    const tuned = applyEnvFeatures(file, parseRouterEnv({ ROUTER_WEB_FETCH_MAX_URLS: "2" }));
    expect(tuned.web_fetch).toEqual({ ...withHosts, max_urls: 2 });
    const hosts = applyEnvFeatures(file, parseRouterEnv({ ROUTER_WEB_FETCH_HOSTS: "a.example" }));
    expect(hosts.web_fetch).toEqual({ hosts: ["a.example"], timeout_ms: 2000 });
    const closed = applyEnvFeatures(
      { ...file, web_fetch: { ...withHosts, allow_private: true } },
      parseRouterEnv({ ROUTER_WEB_FETCH_ALLOW_PRIVATE: "0" }),
    );
    expect(closed.web_fetch).toMatchObject({ allow_private: false });
  });

  it("names every bad web fetch variable", () => {
    expect(() =>
      parseRouterEnv({
        ROUTER_WEB_FETCH_HOSTS: "ok.example,http://bad.example/,a b",
        ROUTER_WEB_FETCH_ALLOW_PRIVATE: "yes",
        ROUTER_WEB_FETCH_TIMEOUT_MS: "fast",
        ROUTER_WEB_FETCH_MAX_BYTES: "1",
        ROUTER_WEB_FETCH_MAX_URLS: "99",
      }),
    ).toThrow(
      /ROUTER_WEB_FETCH_HOSTS: not a host name, IP literal or \*\.suffix wildcard: http:\/\/bad\.example\/, a b[\s\S]*ROUTER_WEB_FETCH_ALLOW_PRIVATE[\s\S]*ROUTER_WEB_FETCH_TIMEOUT_MS[\s\S]*ROUTER_WEB_FETCH_MAX_BYTES[\s\S]*ROUTER_WEB_FETCH_MAX_URLS/,
    );
    expect(() => parseRouterEnv({ ROUTER_WEB_FETCH_HOSTS: " , ," })).toThrow(
      /ROUTER_WEB_FETCH_HOSTS: list at least one host/,
    );
  });

  it("knobs without any hosts fail the config check, naming ROUTER_WEB_FETCH_HOSTS", () => {
    const config = applyEnvFeatures(
      defaultRouterConfig(),
      parseRouterEnv({ ROUTER_WEB_FETCH_TIMEOUT_MS: "2000" }),
    );
    expect(() => parseRouterConfig(config)).toThrow(
      /web_fetch\.hosts[\s\S]*ROUTER_WEB_FETCH_HOSTS/,
    );
  });
});
