import { DemoEngine } from "../miner/engines/demo.js";
import type { MinerEngine } from "../miner/engines/types.js";

/**
 * The demo engine, recording every prompt it is asked to generate from: what a real demo miner
 * received, after the router's blob hand-over.
 */
export function recordingDemoEngine(prompts: string[]): MinerEngine {
  const demo = new DemoEngine(0);
  return {
    name: "demo",
    generate(req, onToken, signal) {
      prompts.push(req.prompt);
      return demo.generate(req, onToken, signal);
    },
  };
}
