// The official `openai` npm client pointed at Portal's OpenAI-compatible routes.
//   npm install openai
//   PORTAL_API_KEY=cx_live_… node examples/node/openai.mjs
import OpenAI from "openai";

const { PORTAL_API_KEY, PORTAL_URL = "http://127.0.0.1:8080" } = process.env;
const openai = new OpenAI({ apiKey: PORTAL_API_KEY, baseURL: `${PORTAL_URL}/v1` });

const chat = await openai.chat.completions.create({
  model: "default",
  messages: [{ role: "user", content: "Explain decentralized AI inference in one sentence." }],
  max_tokens: 32,
});
console.log("chat:", chat.choices[0]?.message.content);
console.log("tokens:", chat.usage?.total_tokens);

const stream = await openai.chat.completions.create({
  model: "default",
  messages: [{ role: "user", content: "Count to five." }],
  max_tokens: 16,
  stream: true,
  stream_options: { include_usage: true },
});
let text = "";
for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
console.log("streamed:", text);
