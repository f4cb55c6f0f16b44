import { z } from "zod";

const LogLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** Environment of a standalone miner. */
export const MinerEnvSchema = z
  .object({
    MINER_ROUTER_URL: z
      .url({ protocol: /^wss?$/, error: "must be a ws:// or wss:// URL" })
      .default("ws://127.0.0.1:5010/ws/miners"),
    MINER_TOKEN: z.string().min(1).default("default-miner-token"),
    MINER_ID: z.string().min(1).max(128).optional(),
    MINER_ENGINE: z.enum(["demo", "openai"]).default("demo"),
    MINER_MODELS: z
      .string()
      .default("demo")
      .transform((s) =>
        s
          .split(",")
          .map((m) => m.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string()).min(1, "list at least one model")),
    MINER_CAPACITY: z.coerce.number().int().min(1).max(1024).default(1),
    /** Delay between demo-engine tokens, so demos and drain tests see work in flight. */
    MINER_DEMO_TOKEN_DELAY_MS: z.coerce.number().int().min(0).max(10_000).default(3),
    MINER_OPENAI_BASE_URL: z.url().optional(),
    MINER_OPENAI_API_KEY: z.string().min(1).optional(),
    MINER_OPENAI_MODEL: z.string().min(1).optional(),
    /** "0" for OpenAI-compatible servers whose streaming is broken (one JSON answer instead). */
    MINER_OPENAI_STREAM: z.enum(["0", "1"]).default("1"),
    LOG_LEVEL: LogLevel.default("info"),
  })
  .refine((e) => e.MINER_ENGINE !== "openai" || e.MINER_OPENAI_BASE_URL !== undefined, {
    message: "required when MINER_ENGINE=openai",
    path: ["MINER_OPENAI_BASE_URL"],
  });
export type MinerAppEnv = z.infer<typeof MinerEnvSchema>;

/** Parse an env object; the error message names every bad variable. */
export function parseMinerEnv(source: Record<string, string | undefined>): MinerAppEnv {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ""));
  const parsed = MinerEnvSchema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
  throw new Error(`invalid environment:\n${lines.join("\n")}`);
}

/** Read `process.env` once, exiting non-zero with the bad variables named. */
export function readMinerEnv(): MinerAppEnv {
  try {
    return parseMinerEnv(process.env);
  } catch (err) {
    process.stderr.write(`miner: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
