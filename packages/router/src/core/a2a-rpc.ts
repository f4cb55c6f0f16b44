import { randomUUID } from "node:crypto";
import {
  RouterDelegateRequest,
  RouterFactcheckRequest,
  RouterValidateRequest,
  TOO_DEEP_MESSAGE,
} from "@portal/contracts";
import { z } from "zod";
import { delegateV2 } from "./delegate/service.js";
import { factcheck, factcheckSession } from "./factcheck/service.js";
import type { RouterCore } from "./router-core.js";
import { validateV2 } from "./validate/service.js";

/**
 * The A2A JSON-RPC endpoint behind the agent card's `url` (protocol v0.3 method names and shapes:
 * a2a types.ts @ v0.3.0). `message/send` runs one of the card's skills and answers an A2A Task;
 * `tasks/get` reads it back. Streaming and push notifications are not offered (the card says so),
 * and router tasks cannot be cancelled by a client.
 *
 * Skill choice: `message.metadata.skill` (or `params.metadata.skill`): `completion` (default; the
 * text parts are the prompt), `delegate` (a data part with a delegate v2 body, or the text as the
 * objective), `validate` (a data part with a validate v2 body), `factcheck` (a data part with a
 * factcheck body, or the text as the statement). `metadata.session_id` picks the session.
 */

/** JSON-RPC 2.0 and A2A v0.3 error codes. */
export const A2A_ERRORS = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  taskNotFound: -32001,
  taskNotCancelable: -32002,
  pushNotificationNotSupported: -32003,
  unsupportedOperation: -32004,
  authenticatedExtendedCardNotConfigured: -32007,
} as const;

type JsonRpcId = string | number | null;
export interface JsonRpcError {
  code: number;
  message: string;
  data?: unknown;
}
export type JsonRpcResponse =
  | { jsonrpc: "2.0"; id: JsonRpcId; result: unknown }
  | { jsonrpc: "2.0"; id: JsonRpcId; error: JsonRpcError };

/** How the route layer describes a domain error (router error code, message, details). */
export type DescribeError = (err: unknown) => {
  code: string;
  message: string;
  details?: Record<string, unknown> | undefined;
};

const Part = z.union([
  z.looseObject({ kind: z.literal("text"), text: z.string().max(1_000_000) }),
  z.looseObject({ kind: z.literal("data"), data: z.record(z.string(), z.unknown()) }),
  z.looseObject({ kind: z.literal("file"), file: z.record(z.string(), z.unknown()) }),
]);
type Part = z.infer<typeof Part>;

const Skill = z.enum(["completion", "delegate", "validate", "factcheck"]);
type Skill = z.infer<typeof Skill>;

const Metadata = z.looseObject({
  skill: Skill.optional(),
  session_id: z.int().nonnegative().optional(),
});

const Message = z.looseObject({
  kind: z.literal("message").optional(),
  messageId: z.string().min(1).max(256),
  role: z.enum(["user", "agent"]),
  parts: z.array(Part).min(1).max(64),
  contextId: z.string().min(1).max(256).optional(),
  taskId: z.string().min(1).max(256).optional(),
  metadata: Metadata.optional(),
});
type Message = z.infer<typeof Message>;

const MessageSendParams = z.looseObject({
  message: Message,
  configuration: z
    .looseObject({
      blocking: z.boolean().optional(),
      historyLength: z.int().nonnegative().optional(),
      acceptedOutputModes: z.array(z.string()).optional(),
    })
    .optional(),
  metadata: Metadata.optional(),
});

const TaskQueryParams = z.looseObject({
  id: z.string().min(1).max(256),
  historyLength: z.int().nonnegative().optional(),
});

const Envelope = z.object({
  jsonrpc: z.literal("2.0"),
  id: z.union([z.string(), z.number(), z.null()]).optional(),
  method: z.string().min(1),
  params: z.unknown().optional(),
});

type TaskState = "submitted" | "working" | "completed" | "failed";

/** An A2A Task (v0.3 shape). */
export interface A2aTask {
  kind: "task";
  id: string;
  contextId: string;
  status: { state: TaskState; timestamp: string; message?: A2aMessage };
  artifacts?: Array<{ artifactId: string; name: string; parts: unknown[] }>;
  history: A2aMessage[];
  metadata: Record<string, unknown>;
}
interface A2aMessage {
  kind: "message";
  messageId: string;
  role: "user" | "agent";
  parts: unknown[];
  contextId: string;
  taskId: string;
  metadata?: Record<string, unknown>;
}

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

const textOf = (parts: Part[]): string =>
  parts
    .filter((p): p is Extract<Part, { kind: "text" }> => p.kind === "text")
    .map((p) => p.text)
    .join("\n");
const dataOf = (parts: Part[]): Record<string, unknown> | undefined =>
  parts.find((p): p is Extract<Part, { kind: "data" }> => p.kind === "data")?.data;

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new RpcError(A2A_ERRORS.invalidParams, `invalid ${what}`, {
    issues: r.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })),
  });
}

/** A2A tasks of this router, bounded (oldest finished ones dropped first). */
export class A2aTaskRegistry {
  private readonly tasks = new Map<string, A2aTask>();

  constructor(private readonly max = 1000) {}

  get(id: string): A2aTask | undefined {
    return this.tasks.get(id);
  }

  add(task: A2aTask): void {
    this.tasks.set(task.id, task);
    if (this.tasks.size <= this.max) return;
    for (const [id, t] of this.tasks) {
      if (this.tasks.size <= this.max) break;
      if (t.status.state === "completed" || t.status.state === "failed") this.tasks.delete(id);
    }
  }
}

/** Runs JSON-RPC requests against the router core. */
export class A2aRpc {
  constructor(
    private readonly core: RouterCore,
    private readonly registry: A2aTaskRegistry,
    private readonly describeError: DescribeError,
  ) {}

  /** Answer one JSON-RPC request given as parsed JSON (or a parse failure). */
  async handle(
    body: { ok: true; value: unknown } | { ok: false; tooDeep?: boolean },
  ): Promise<JsonRpcResponse> {
    if (!body.ok && body.tooDeep === true)
      return this.error(null, A2A_ERRORS.invalidRequest, TOO_DEEP_MESSAGE);
    if (!body.ok) return this.error(null, A2A_ERRORS.parseError, "request body is not valid JSON");
    const env = Envelope.safeParse(body.value);
    if (!env.success) {
      const rawId = (body.value as { id?: unknown } | null)?.id;
      const id = typeof rawId === "string" || typeof rawId === "number" ? rawId : null;
      return this.error(id, A2A_ERRORS.invalidRequest, "not a JSON-RPC 2.0 request object", {
        issues: env.error.issues.map((i) => ({
          path: i.path.map(String).join("."),
          message: i.message,
        })),
      });
    }
    const id = env.data.id ?? null;
    try {
      return { jsonrpc: "2.0", id, result: await this.dispatch(env.data.method, env.data.params) };
    } catch (err) {
      if (err instanceof RpcError) return this.error(id, err.code, err.message, err.data);
      this.core.logger.error({ err }, "a2a request failed");
      return this.error(id, A2A_ERRORS.internalError, "internal error");
    }
  }

  private error(id: JsonRpcId, code: number, message: string, data?: unknown): JsonRpcResponse {
    return { jsonrpc: "2.0", id, error: { code, message, ...(data !== undefined && { data }) } };
  }

  private async dispatch(method: string, params: unknown): Promise<unknown> {
    switch (method) {
      case "message/send":
        return this.send(parse(MessageSendParams, params, "message/send params"));
      case "tasks/get": {
        const q = parse(TaskQueryParams, params, "tasks/get params");
        return this.view(this.find(q.id), q.historyLength);
      }
      case "tasks/cancel": {
        const q = parse(TaskQueryParams, params, "tasks/cancel params");
        const task = this.find(q.id);
        throw new RpcError(A2A_ERRORS.taskNotCancelable, "router tasks cannot be cancelled", {
          state: task.status.state,
        });
      }
      case "message/stream":
      case "tasks/resubscribe":
        throw new RpcError(
          A2A_ERRORS.unsupportedOperation,
          "streaming is not offered on this A2A endpoint (capabilities.streaming is false); use message/send",
        );
      case "tasks/pushNotificationConfig/set":
      case "tasks/pushNotificationConfig/get":
      case "tasks/pushNotificationConfig/list":
      case "tasks/pushNotificationConfig/delete":
        throw new RpcError(
          A2A_ERRORS.pushNotificationNotSupported,
          "push notifications are not supported",
        );
      case "agent/getAuthenticatedExtendedCard":
        throw new RpcError(
          A2A_ERRORS.authenticatedExtendedCardNotConfigured,
          "no authenticated extended card: the public card is complete",
        );
      default:
        throw new RpcError(A2A_ERRORS.methodNotFound, `method not found: ${method.slice(0, 100)}`);
    }
  }

  private find(id: string): A2aTask {
    const task = this.registry.get(id);
    if (task === undefined) throw new RpcError(A2A_ERRORS.taskNotFound, `task not found: ${id}`);
    return task;
  }

  private view(task: A2aTask, historyLength: number | undefined): A2aTask {
    if (historyLength === undefined) return task;
    return { ...task, history: historyLength === 0 ? [] : task.history.slice(-historyLength) };
  }

  private async send(p: z.output<typeof MessageSendParams>): Promise<A2aTask> {
    const msg = p.message;
    if (msg.role !== "user") {
      throw new RpcError(A2A_ERRORS.invalidParams, "message.role must be user");
    }
    if (msg.taskId !== undefined) {
      const earlier = this.find(msg.taskId);
      throw new RpcError(
        A2A_ERRORS.invalidParams,
        "router tasks take no follow-up messages: send a new message without taskId",
        { state: earlier.status.state },
      );
    }
    const skill = msg.metadata?.skill ?? p.metadata?.skill ?? "completion";
    const sessionId = msg.metadata?.session_id ?? p.metadata?.session_id;
    const run = this.prepare(skill, msg, sessionId);
    const id = randomUUID();
    const contextId = msg.contextId ?? randomUUID();
    const user: A2aMessage = { ...msg, kind: "message", contextId, taskId: id };
    const task: A2aTask = {
      kind: "task",
      id,
      contextId,
      status: { state: "working", timestamp: new Date().toISOString() },
      history: [user],
      metadata: { skill },
    };
    this.registry.add(task);
    const done = run().then(
      (out) => {
        const reply = this.agentMessage(task, [{ kind: "text", text: out.text }]);
        task.artifacts = [{ artifactId: randomUUID(), name: `${skill} result`, parts: out.parts }];
        task.history.push(reply);
        task.status = { state: "completed", timestamp: new Date().toISOString(), message: reply };
        Object.assign(task.metadata, out.metadata);
      },
      (err: unknown) => {
        const e = this.describeError(err);
        const reply = this.agentMessage(task, [
          { kind: "text", text: e.message },
          { kind: "data", data: { code: e.code, ...(e.details && { details: e.details }) } },
        ]);
        task.history.push(reply);
        task.status = { state: "failed", timestamp: new Date().toISOString(), message: reply };
        task.metadata.error_code = e.code;
      },
    );
    if (p.configuration?.blocking !== false) await done;
    return this.view(task, p.configuration?.historyLength);
  }

  private agentMessage(task: A2aTask, parts: unknown[]): A2aMessage {
    return {
      kind: "message",
      messageId: randomUUID(),
      role: "agent",
      parts,
      contextId: task.contextId,
      taskId: task.id,
    };
  }

  /**
   * Validate the skill's input now (so bad params are a JSON-RPC error, not a failed task) and
   * return the work to run.
   */
  private prepare(
    skill: Skill,
    msg: Message,
    sessionId: number | undefined,
  ): () => Promise<{ text: string; parts: unknown[]; metadata: Record<string, unknown> }> {
    const core = this.core;
    const text = textOf(msg.parts);
    const data = dataOf(msg.parts);
    const withSession = (body: Record<string, unknown>) =>
      sessionId === undefined || body.session_id !== undefined
        ? body
        : { ...body, session_id: sessionId };
    const structured = (out: object, summary: string) => ({
      text: summary,
      parts: [
        { kind: "text", text: summary },
        { kind: "data", data: out },
      ],
      metadata: {},
    });
    switch (skill) {
      case "completion": {
        if (text.trim() === "") {
          throw new RpcError(A2A_ERRORS.invalidParams, "completion needs a non-empty text part");
        }
        return async () => {
          const { task } = await core.submitCompletion({
            apiVersion: 3,
            pathSessionId: sessionId,
            request: { prompt: text },
          });
          await task.watch();
          const r = core.completionResponse(task);
          const out = r.choices[0]?.text ?? "";
          return {
            text: out,
            parts: [{ kind: "text", text: out }],
            metadata: { session_id: r.session_id, task_id: r.task_id, usage: r.usage },
          };
        };
      }
      case "delegate": {
        const body = parse(
          RouterDelegateRequest,
          withSession(data ?? { objective: text }),
          "delegate input (a data part with a delegate v2 body, or a text objective)",
        );
        return async () => {
          const out = await delegateV2(core, core.sessions.resolve(body.session_id), body);
          const summary =
            typeof out.output === "string" ? out.output : JSON.stringify(out.output ?? null);
          return structured(out, summary);
        };
      }
      case "validate": {
        const body = parse(
          RouterValidateRequest,
          withSession(data ?? {}),
          "validate input (a data part with a validate v2 body: claim, policy)",
        );
        return async () => {
          const out = await validateV2(core, core.sessions.resolve(body.session_id), body);
          return structured(out, `${out.verdict} (confidence ${out.confidence})`);
        };
      }
      case "factcheck": {
        const body = parse(
          RouterFactcheckRequest,
          withSession(data ?? { claim: text }),
          "factcheck input (a data part with a factcheck body, or the statement as text)",
        );
        return async () => {
          const session = factcheckSession(core, body.mode, body.session_id);
          const out = await factcheck(core, session, body, core.evidenceProvider);
          return structured(out, `${out.verdict} (confidence ${out.confidence})`);
        };
      }
    }
  }
}
