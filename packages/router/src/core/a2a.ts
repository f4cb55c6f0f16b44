import type { RouterCore } from "./router-core.js";

/** A skill of the router's agent card. */
interface Skill {
  id: string;
  name: string;
  description: string;
  tags: string[];
  examples: string[];
  route: string;
}

const SKILLS: Skill[] = [
  {
    id: "completion",
    name: "LLM completion",
    description: "Run a prompt on the network's miners, with redundancy and consensus.",
    tags: ["inference", "llm", "completion"],
    examples: ["Explain decentralized AI inference in one paragraph."],
    route: "POST /api/v3/completions[/{session_id}]",
  },
  {
    id: "delegate",
    name: "Delegate a task",
    description: "Carry out an objective on an input; structured output, steps and evidence.",
    tags: ["delegate", "agent", "workflow"],
    examples: ["Summarize the technical purpose of Cortensor routers."],
    route: "POST /api/v2/delegate · POST /api/v3/delegate",
  },
  {
    id: "validate",
    name: "Validate a claim",
    description:
      "Judge a candidate output against a claim and rules: VALID, INVALID, RETRY, NEEDS_SPEC.",
    tags: ["validate", "verification", "consensus"],
    examples: ["Validate whether the output describes router behavior accurately."],
    route: "POST /api/v2/validate · POST /api/v3/validate",
  },
  {
    id: "factcheck",
    name: "Fact-check a statement",
    description: "Verify a statement in standard or realtime (evidence-grounded) mode.",
    tags: ["factcheck", "verification"],
    examples: ["Cortensor supports router, miner, oracle, and validator roles."],
    route: "POST /api/v1/factcheck",
  },
];

const X402_EXTENSION = "https://github.com/google-agentic-commerce/a2a-x402/blob/main/spec/v0.2";

/**
 * The router's A2A agent card: the v0.3 shape (`protocolVersion`, `url`, `preferredTransport`, …)
 * read by v0.2/v0.3 clients, plus v1.0 `supportedInterfaces` so v1.0 clients read it too (the
 * "superset" card of protocols.md §2.5).
 */
export function agentCard(core: RouterCore, origin: string) {
  const cfg = core.features.a2a;
  const base = (cfg?.public_url ?? origin).replace(/\/$/, "");
  const x402 = core.features.x402?.enabled === true;
  return {
    protocolVersion: "0.3.0",
    name: cfg?.name ?? "Portal Router",
    description:
      cfg?.description ??
      "Routes inference, delegation, validation and fact-checking tasks to decentralized miners.",
    url: `${base}/api/v1/a2a`,
    preferredTransport: "JSONRPC",
    supportedInterfaces: [
      { url: `${base}/api/v1/a2a`, protocolBinding: "JSONRPC", protocolVersion: "0.3" },
    ],
    provider: { organization: cfg?.organization ?? "Portal", url: base },
    version: core.version,
    documentationUrl: `${base}/api/v1/a2a/discovery`,
    capabilities: {
      // A2A streaming means message/stream; the JSON-RPC endpoint offers message/send only
      // (the REST routes stream over SSE, see the discovery document).
      streaming: false,
      pushNotifications: false,
      stateTransitionHistory: true,
      extensions: x402
        ? [{ uri: X402_EXTENSION, description: "x402 payments on /api/v1/x402/*", required: false }]
        : [],
    },
    securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    security: [{ bearer: [] }],
    defaultInputModes: ["application/json", "text/plain"],
    defaultOutputModes: ["application/json", "text/event-stream"],
    skills: SKILLS.map(({ route: _route, ...s }) => s),
    supportsAuthenticatedExtendedCard: false,
  };
}

/** `/api/v1/a2a/discovery`: the card plus the router's skills and route families. */
export function discovery(core: RouterCore, origin: string) {
  const f = core.features;
  return {
    agents: [agentCard(core, origin)],
    wellKnown: ["/.well-known/agent-card.json", "/.well-known/agent.json"],
    skills: SKILLS.map((s) => ({ id: s.id, name: s.name, route: s.route })),
    routes: {
      completions: ["/api/v1/completions", "/api/v2/completions", "/api/v3/completions"],
      delegate: ["/api/v1/delegate", "/api/v2/delegate", "/api/v3/delegate"],
      validate: ["/api/v1/validate", "/api/v2/validate", "/api/v3/validate"],
      factcheck: ["/api/v1/factcheck", "/api/v1/fact-check"],
      trial: f.trial?.enabled === true ? ["/api/v1/trial/*", "/api/v2/trial/*"] : [],
      x402: f.x402?.enabled === true ? ["/api/v1/x402/*", "/api/v2/x402/*"] : [],
      mcp: f.mcp?.enabled === true ? [f.mcp.path] : [],
      a2a: ["POST /api/v1/a2a (JSON-RPC 2.0: message/send, tasks/get, tasks/cancel)"],
      privacy: ["/api/v1/auth/payload_enc_key/session", "/api/v1/auth/payload_enc_key/task"],
      offchain: ["/api/v3/offchain/result"],
    },
    auth: {
      bearer: "Authorization: Bearer <router api key> on work routes",
      trial: f.trial?.enabled === true,
      x402: f.x402?.enabled === true,
    },
  };
}
