import type { ErrorCode } from "@portal/contracts";
import type { Logger } from "pino";
import type { PortalUser } from "./services/auth/portal-auth.js";
import type { KeyRecord } from "./services/key-store.js";
import type { Services } from "./services/services.js";
import type { StreamEnd } from "./services/streaming/serve-stream.js";

/** The one Hono env of the gateway: context variables set by middleware and read by handlers. */
export interface AppEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    services: Services;
    /** performance.now() at arrival. */
    receivedAt: number;
    /** Set by the API-key middleware. */
    apiKey?: KeyRecord;
    /** Set by the portal-auth middleware on /portal/api and /admin/api. */
    portalUser?: PortalUser;
    /** Set as soon as known, so even failed envelopes and request logs carry them. */
    modelAlias?: string;
    routerPool?: string;
    /** Time spent waiting on routers, excluded from the overhead header. */
    upstreamMs?: number;
    errorCode?: ErrorCode;
    /** A streamed answer: resolves when the stream is over (the request log waits for it). */
    streamEnd?: Promise<StreamEnd>;
  };
}
