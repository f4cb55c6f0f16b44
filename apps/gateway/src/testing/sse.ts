import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { parseSse, type SseItem } from "../lib/sse-parse.js";
import type { TestGateway } from "./harness.js";

/** Read a whole SSE response into its items (events and comments), in order. */
export async function readSse(res: Response): Promise<SseItem[]> {
  if (!res.body) throw new Error("response has no body");
  const items: SseItem[] = [];
  for await (const item of parseSse(res.body)) items.push(item);
  return items;
}

/** The `data:` payloads of the events (not comments), in order. */
export function eventData(items: SseItem[]): string[] {
  return items.flatMap((i) => (i.kind === "event" ? [i.data] : []));
}

/** Serve a test gateway over real HTTP on an ephemeral loopback port (for SDK clients). */
export async function listen(gw: TestGateway): Promise<{ url: string; close(): Promise<void> }> {
  const server = serve({ fetch: gw.app.fetch, hostname: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        if ("closeAllConnections" in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
