export { PortalClient, type PortalClientOptions, type RequestOptions } from "./client.js";
export * from "./errors.js";
export type * from "./types.js";
