import { OpenAPIHono } from "@hono/zod-openapi";
import { registerV1Paths } from "./v1-paths.js";

/** Registers one route group's paths; each group documents itself next to its schemas. */
export type PathRegistrar = (app: OpenAPIHono) => void;

/** The OpenAPI 3.1 document of the gateway, generated from the zod contracts. */
export function buildOpenApiDocument(version: string, extra: readonly PathRegistrar[] = []) {
  const app = new OpenAPIHono();
  registerV1Paths(app);
  for (const register of extra) register(app);
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "Portal API",
      version,
      description:
        "Hosted gateway for decentralized AI inference. Every failure uses the envelope with " +
        '`status: "failed"` and an `error.code` from the catalogue.',
    },
    servers: [{ url: "/" }],
  });
}
