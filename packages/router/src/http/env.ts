import type { RouterCore } from "../core/router-core.js";

/** The one Hono env of the router app. */
export type RouterEnv = { Variables: { core: RouterCore } };
