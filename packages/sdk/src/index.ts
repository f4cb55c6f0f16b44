export {
  PortalClient,
  type PortalClientOptions,
  type RequestOptions,
  type StreamOptions,
} from "./client.js";
export * from "./errors.js";
export type * from "./types.js";
