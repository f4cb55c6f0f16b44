import type { RateLimitInfo } from "../domain-errors.js";

/** X-RateLimit-* (DESIGN §1): the constraining limit, its remaining room, reset in epoch seconds. */
export function rateLimitHeaders(info: RateLimitInfo): Record<string, string> {
  return {
    "X-RateLimit-Limit": String(info.limit),
    "X-RateLimit-Remaining": String(info.remaining),
    "X-RateLimit-Reset": String(info.reset),
  };
}
