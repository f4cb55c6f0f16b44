import { request } from "undici";

/** Time to the first SSE `data:` bytes of one streamed completion, in ms. */
async function ttfb(url: string, headers: Record<string, string>, body: string): Promise<number> {
  const started = performance.now();
  const res = await request(url, { method: "POST", headers, body });
  if (res.statusCode !== 200) {
    throw new Error(`stream answered ${res.statusCode}: ${await res.body.text()}`);
  }
  let first = 0;
  for await (const chunk of res.body) {
    if (!first && String(chunk).includes("data:")) first = performance.now() - started;
  }
  return first;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * Streaming time-to-first-byte, the router directly vs through the gateway, interleaved one
 * request at a time so both see the same machine conditions.
 */
export async function streamTtfb(args: {
  routerUrl: string;
  gatewayUrl: string;
  key: string;
  alias: string;
  requests: number;
}) {
  const direct: number[] = [];
  const viaGateway: number[] = [];
  const json = { "content-type": "application/json" };
  for (let i = 0; i < args.requests + 20; i++) {
    const d = await ttfb(
      `${args.routerUrl}/api/v3/completions/0`,
      { ...json, authorization: "Bearer default-dev-token" },
      JSON.stringify({ prompt: "Benchmark prompt.", max_tokens: 16, stream: true }),
    );
    const g = await ttfb(
      `${args.gatewayUrl}/v1/completions`,
      { ...json, authorization: `Bearer ${args.key}` },
      JSON.stringify({
        model: args.alias,
        prompt: "Benchmark prompt.",
        max_tokens: 16,
        stream: true,
      }),
    );
    if (i < 20) continue; // warm-up
    direct.push(d);
    viaGateway.push(g);
  }
  direct.sort((a, b) => a - b);
  viaGateway.sort((a, b) => a - b);
  return {
    directP50: percentile(direct, 50),
    directP99: percentile(direct, 99),
    gatewayP50: percentile(viaGateway, 50),
    gatewayP99: percentile(viaGateway, 99),
  };
}
