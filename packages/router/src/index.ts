export { createRouterApp } from "./app.js";
export {
  defaultRouterConfig,
  loadRouterConfig,
  type ParsedRouterConfig,
  parseRouterConfig,
  type RouterConfig,
  RouterConfigError,
  type RouterFeatures,
  WEB_FETCH_LIMITS,
} from "./config.js";
export { agentCard } from "./core/a2a.js";
export { type BlobStore, FsBlobStore, MemoryBlobStore } from "./core/blob-store.js";
export * from "./core/errors.js";
export {
  type EvidenceProvider,
  type EvidenceSource,
  StaticEvidenceProvider,
  TavilyEvidenceProvider,
} from "./core/factcheck/evidence.js";
export { offchainResultMessage } from "./core/offchain.js";
export { EncryptionAllowList } from "./core/privacy/allow-list.js";
export { keyMessage } from "./core/privacy/issuer.js";
export { PayloadKeyring } from "./core/privacy/keyring.js";
export { ROUTER_VERSION, RouterCore, type RouterCoreOptions } from "./core/router-core.js";
export {
  S3BlobStore,
  type S3BlobStoreOptions,
  type S3Credentials,
  S3RequestError,
  signS3Request,
} from "./core/s3-blob-store.js";
export { type Session, SessionRegistry } from "./core/sessions.js";
export type { Task, TaskState } from "./core/tasks.js";
export type { FetchedPage, WebFetcher } from "./core/web-fetch/fetcher.js";
export { HttpWebFetcher } from "./core/web-fetch/fetcher.js";
export { hostAllowed, isHostPattern, type WebFetchPolicy } from "./core/web-fetch/policy.js";
export { type Facilitator, HttpFacilitator, LocalFacilitator } from "./core/x402/facilitator.js";
export type { PaymentRequirements, SettleResult } from "./core/x402/types.js";
export type { RouterEnv } from "./http/env.js";
export {
  DEV_API_KEY,
  DEV_MINER_TOKEN,
  isLoopbackHost,
  type RouterNodeHandle,
  type RouterNodeOptions,
  RouterStartupError,
  startRouterNode,
} from "./node.js";
