// The Portal SDK: a completion (envelope), a streamed completion, chat, models and usage.
//   npm run build -w @portal/sdk   (once: the SDK is imported from its built dist/)
//   PORTAL_API_KEY=cx_live_… node examples/node/sdk.mjs
import { PortalClient, PortalError } from "@portal/sdk";

const { PORTAL_API_KEY = "", PORTAL_URL = "http://127.0.0.1:8080" } = process.env;
const client = new PortalClient({ apiKey: PORTAL_API_KEY, baseUrl: PORTAL_URL });

try {
  const models = await client.models.list();
  console.log("models:", models.data.map((m) => m.id).join(", "));

  const res = await client.completions.create({
    model: "default",
    prompt: "Explain decentralized AI inference in one sentence.",
    max_tokens: 32,
  });
  console.log("request_id:", res.request_id);
  console.log("text:", res.data.choices[0]?.text);
  console.log("cost:", res.data.usage.cost.amount, res.data.usage.cost.currency);

  let streamed = "";
  for await (const event of client.completions.stream({
    model: "default",
    prompt: "Count to five.",
    max_tokens: 16,
  })) {
    streamed += event.data.choices[0]?.text ?? "";
    if (event.data.usage) console.log("stream tokens:", event.data.usage.total_tokens);
  }
  console.log("streamed:", streamed);

  const chat = await client.chat.completions.create({
    model: "default",
    messages: [{ role: "user", content: "Say hello." }],
    max_tokens: 16,
  });
  console.log("chat:", chat.choices[0]?.message.content);

  const usage = await client.usage.get();
  console.log("usage status:", usage.status);
} catch (err) {
  // Typed by the gateway's error catalogue: err.code is e.g. "unauthorized", "rate_limited".
  if (err instanceof PortalError) {
    console.error(
      `Portal error ${err.code} (HTTP ${err.status}, ${err.requestId}): ${err.message}`,
    );
    process.exit(1);
  }
  throw err;
}
