export { type MinerAppEnv, MinerEnvSchema, parseMinerEnv } from "./env.js";
