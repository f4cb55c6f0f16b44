export { parseRouterEnv, type RouterAppEnv, RouterEnvSchema } from "./env.js";
export { applyEnvFeatures } from "./features.js";
