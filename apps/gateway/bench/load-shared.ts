// What the gateway benchmarks share: the request every target is loaded with, and Redis's CPU.
import { Redis } from "ioredis";

/** The completion request of every bench round (path, body, headers). */
/** What every bench request asks (the fixture reports its real token count). */
export const BENCH_PROMPT = "Benchmark prompt.";

export function requestOf(key: string, alias: string) {
  return {
    path: "/v1/completions",
    body: JSON.stringify({ model: alias, prompt: BENCH_PROMPT, max_tokens: 16 }),
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
  };
}

/** Reads Redis's own CPU time (INFO cpu) in ms; 0 without REDIS_URL. */
export function redisCpuReader(): { enabled: boolean; read(): Promise<number>; close(): void } {
  const redis = process.env.REDIS_URL ? new Redis(process.env.REDIS_URL) : null;
  return {
    enabled: redis !== null,
    async read() {
      if (!redis) return 0;
      const info = await redis.info("cpu");
      const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
      return (field("used_cpu_sys") + field("used_cpu_user")) * 1000;
    },
    close: () => redis?.disconnect(),
  };
}
