import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RouterCompletionResponse } from "@portal/contracts";
import { z } from "zod";
import { delegateV1, delegateV2 } from "./delegate/service.js";
import { factcheck } from "./factcheck/service.js";
import type { RouterCore } from "./router-core.js";
import { validateV1, validateV2 } from "./validate/service.js";

type ToolResult = { content: Array<{ type: "text"; text: string }>; isError?: boolean };

const asText = (value: unknown): ToolResult => ({
  content: [{ type: "text", text: JSON.stringify(value, null, 2) }],
});

/** Run a tool body; domain errors become an MCP tool error (isError) rather than a protocol error. */
async function guarded(run: () => Promise<unknown>): Promise<ToolResult> {
  try {
    return asText(await run());
  } catch (err) {
    const e = err as Error & { details?: unknown };
    return {
      content: [
        {
          type: "text",
          text: JSON.stringify({ error: e.name, message: e.message, details: e.details ?? null }),
        },
      ],
      isError: true,
    };
  }
}

/**
 * The router's MCP server: completion, delegate (v1 and v2), validate (v1 and v2), factcheck and
 * tasks tools over the router core. A tool's session is the caller's `session_id`, else
 * `mcp.sessions.<tool>`, else `mcp.sessions.default`, else the router's default session; with
 * `mcp.enforce_fixed_sessions` a configured session wins over the caller's.
 */
export function createRouterMcpServer(core: RouterCore): McpServer {
  const server = new McpServer({ name: "portal-router", version: core.version });
  const mcp = core.features.mcp;
  const session = (
    requested: number | undefined,
    tool: "completion" | "delegate" | "validate" | "tasks" | "factcheck",
  ) => {
    const fixed = mcp?.sessions?.[tool] ?? mcp?.sessions?.default;
    const id = mcp?.enforce_fixed_sessions === true && fixed !== undefined ? fixed : requested;
    return core.sessions.resolve(id ?? fixed);
  };

  server.registerTool(
    "cortensor_completions",
    {
      description:
        "Run a prompt on the router's miners (v3 completion) and return the text and evidence.",
      inputSchema: {
        prompt: z.string().min(1),
        session_id: z.int().nonnegative().optional(),
        max_tokens: z.int().min(1).max(1_000_000).optional(),
        temperature: z.number().min(0).max(2).optional(),
      },
    },
    (args) =>
      guarded(async () => {
        const s = session(args.session_id, "completion");
        const { task } = await core.submitCompletion({
          apiVersion: 3,
          pathSessionId: s.id,
          request: {
            prompt: args.prompt,
            ...(args.max_tokens !== undefined && { max_tokens: args.max_tokens }),
            ...(args.temperature !== undefined && { temperature: args.temperature }),
          },
        });
        await task.watch();
        const r: RouterCompletionResponse = core.completionResponse(task);
        return {
          text: r.choices[0]?.text ?? "",
          session_id: r.session_id,
          task_id: r.task_id,
          usage: r.usage,
          consensus: r.consensus,
        };
      }),
  );

  server.registerTool(
    "cortensor_delegate",
    {
      description: "Delegate an objective on an input (delegate v2); structured output with steps.",
      inputSchema: {
        objective: z.string().min(1),
        input: z.string().optional(),
        session_id: z.int().nonnegative().optional(),
        redundancy: z.int().min(1).max(15).optional(),
      },
    },
    (args) =>
      guarded(() =>
        delegateV2(core, session(args.session_id, "delegate"), {
          objective: args.objective,
          ...(args.input !== undefined && { input: { kind: "text", payload: args.input } }),
          ...(args.redundancy !== undefined && { policy: { redundancy: args.redundancy } }),
        }),
      ),
  );

  server.registerTool(
    "cortensor_validate",
    {
      description:
        "Validate a candidate output against a claim and rules: VALID, INVALID, RETRY or NEEDS_SPEC.",
      inputSchema: {
        claim_type: z.string().min(1),
        output: z.string().min(1),
        description: z.string().optional(),
        rules: z.array(z.string()).optional(),
        session_id: z.int().nonnegative().optional(),
        redundancy: z.int().min(1).max(15).optional(),
      },
    },
    (args) =>
      guarded(() =>
        validateV2(core, session(args.session_id, "validate"), {
          claim: {
            type: args.claim_type,
            output: args.output,
            ...(args.description !== undefined && { description: args.description }),
          },
          policy: {
            ...(args.rules !== undefined && { rules: args.rules }),
            ...(args.redundancy !== undefined && { redundancy: args.redundancy }),
          },
        }),
      ),
  );

  server.registerTool(
    "cortensor_delegate_v1",
    {
      description: "Delegate a prompt as given (delegate v1); plain text back.",
      inputSchema: {
        task_request_input: z.string().min(1),
        session_id: z.int().nonnegative().optional(),
        max_tokens: z.int().min(1).max(1_000_000).optional(),
      },
    },
    (args) =>
      guarded(() =>
        delegateV1(core, session(args.session_id, "delegate"), {
          task_request_input: args.task_request_input,
          ...(args.max_tokens !== undefined && { max_tokens: args.max_tokens }),
        }),
      ),
  );

  server.registerTool(
    "cortensor_validate_v1",
    {
      description: "Validate a task result against its request (validate v1).",
      inputSchema: {
        task_request_input: z.string().min(1),
        task_result_output: z.string().min(1),
        rules: z.array(z.string()).optional(),
        session_id: z.int().nonnegative().optional(),
      },
    },
    (args) =>
      guarded(() =>
        validateV1(core, session(args.session_id, "validate"), {
          task_request_input: args.task_request_input,
          task_result_output: args.task_result_output,
          ...(args.rules !== undefined && { rules: args.rules }),
        }),
      ),
  );

  server.registerTool(
    "cortensor_factcheck",
    {
      description: "Fact-check a statement: TRUE, FALSE or UNVERIFIABLE with confidence.",
      inputSchema: {
        statement: z.string().min(1),
        mode: z.enum(["standard", "realtime"]).optional(),
        session_id: z.int().nonnegative().optional(),
      },
    },
    (args) =>
      guarded(() =>
        factcheck(
          core,
          session(args.session_id, "factcheck"),
          { claim: args.statement, mode: args.mode ?? "standard" },
          core.evidenceProvider,
        ),
      ),
  );

  server.registerTool(
    "cortensor_tasks",
    {
      description: "List a session's tasks, or read one task's state and result.",
      inputSchema: {
        session_id: z.int().nonnegative().optional(),
        task_id: z.int().nonnegative().optional(),
      },
    },
    (args) =>
      guarded(async () => {
        const s = session(args.session_id, "tasks");
        if (args.task_id !== undefined) {
          const t = core.tasks.get(s.id, args.task_id);
          return {
            session_id: s.id,
            task_id: t.id,
            state: t.state,
            result: t.input.private ? null : (t.result?.text ?? null),
            error: t.error?.message ?? null,
          };
        }
        return {
          session_id: s.id,
          tasks: core.tasks.list(s.id).map((t) => ({ task_id: t.id, state: t.state })),
        };
      }),
  );
  return server;
}
