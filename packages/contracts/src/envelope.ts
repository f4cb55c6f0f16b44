import { z } from "zod";
import { ErrorBody } from "./errors.js";

/** Success envelope: exactly these keys, in this order (DESIGN §2). */
export function okEnvelopeSchema<T extends z.ZodType>(data: T) {
  return z.object({
    request_id: z.string(),
    status: z.literal("ok"),
    model: z.string().nullable(),
    router_pool: z.string().nullable(),
    data,
    error: z.null(),
  });
}

export const FailedEnvelope = z
  .object({
    request_id: z.string(),
    status: z.literal("failed"),
    model: z.string().nullable(),
    router_pool: z.string().nullable(),
    data: z.null(),
    error: ErrorBody,
  })
  .meta({ id: "FailedEnvelope" });
export type FailedEnvelope = z.infer<typeof FailedEnvelope>;

export interface OkEnvelope<T> {
  request_id: string;
  status: "ok";
  model: string | null;
  router_pool: string | null;
  data: T;
  error: null;
}

export interface EnvelopeMeta {
  requestId: string;
  model?: string | null;
  routerPool?: string | null;
}

/** Build a success envelope with the keys in their contractual order. */
export function okEnvelope<T>(meta: EnvelopeMeta, data: T): OkEnvelope<T> {
  return {
    request_id: meta.requestId,
    status: "ok",
    model: meta.model ?? null,
    router_pool: meta.routerPool ?? null,
    data,
    error: null,
  };
}

/** Build a failed envelope with the keys in their contractual order. */
export function failedEnvelope(meta: EnvelopeMeta, error: ErrorBody): FailedEnvelope {
  return {
    request_id: meta.requestId,
    status: "failed",
    model: meta.model ?? null,
    router_pool: meta.routerPool ?? null,
    data: null,
    error,
  };
}
