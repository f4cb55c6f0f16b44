import { z } from "zod";

/** `GET /v1/models`: the OpenAI list shape. */
export const ModelList = z
  .object({
    object: z.literal("list"),
    data: z.array(
      z.object({
        id: z.string(),
        object: z.literal("model"),
        created: z.int(),
        owned_by: z.string(),
      }),
    ),
  })
  .meta({
    id: "ModelList",
    example: {
      object: "list",
      data: [{ id: "default", object: "model", created: 1764000000, owned_by: "portal" }],
    },
  });
export type ModelList = z.infer<typeof ModelList>;

/** `GET /health`: liveness plus each pool's healthy/total targets. */
export const HealthResponse = z
  .object({
    status: z.literal("ok"),
    build: z.object({ version: z.string(), node: z.string() }),
    pools: z.array(
      z.object({
        name: z.string(),
        state: z.enum(["active", "draining", "disabled"]),
        healthy: z.int().nonnegative(),
        total: z.int().nonnegative(),
      }),
    ),
  })
  .meta({ id: "HealthResponse" });
export type HealthResponse = z.infer<typeof HealthResponse>;
