import { describe, expect, it } from "vitest";
import { parseMinerEnv } from "./env.js";

describe("miner env", () => {
  it("applies defaults and splits the model list", () => {
    expect(parseMinerEnv({ MINER_MODELS: "demo, llama ,", MINER_CAPACITY: "4" })).toMatchObject({
      MINER_ROUTER_URL: "ws://127.0.0.1:5010/ws/miners",
      MINER_ENGINE: "demo",
      MINER_MODELS: ["demo", "llama"],
      MINER_CAPACITY: 4,
      MINER_DEMO_TOKEN_DELAY_MS: 3,
    });
    expect(parseMinerEnv({ MINER_DEMO_TOKEN_DELAY_MS: "40" }).MINER_DEMO_TOKEN_DELAY_MS).toBe(40);
    expect(() => parseMinerEnv({ MINER_DEMO_TOKEN_DELAY_MS: "-1" })).toThrow(
      /MINER_DEMO_TOKEN_DELAY_MS/,
    );
  });

  it("names every bad variable; openai needs a base URL", () => {
    expect(() => parseMinerEnv({ MINER_ROUTER_URL: "http://x", MINER_CAPACITY: "0" })).toThrow(
      /MINER_ROUTER_URL[\s\S]*MINER_CAPACITY/,
    );
    expect(() => parseMinerEnv({ MINER_ENGINE: "openai" })).toThrow(/MINER_OPENAI_BASE_URL/);
  });
});
