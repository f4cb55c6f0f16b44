import { z } from "zod";

/**
 * The router ↔ miner WebSocket protocol (JSON text frames). Both ends validate every frame with
 * these schemas; anything that does not parse is a protocol violation, never a crash.
 */

export const PROTOCOL_VERSION = 1;

const usage = z.object({
  prompt_tokens: z.int().nonnegative(),
  completion_tokens: z.int().nonnegative(),
});

/** Generation parameters the router hands to a miner. */
export const TaskParams = z.object({
  max_tokens: z.int().positive(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  top_k: z.int().optional(),
  presence_penalty: z.number().optional(),
  frequency_penalty: z.number().optional(),
  stop: z.array(z.string()).optional(),
  prompt_type: z.int().optional(),
  prompt_template: z.string().optional(),
});
export type TaskParams = z.infer<typeof TaskParams>;

/** Frames a miner sends. */
export const MinerMessage = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("hello"),
    miner_id: z.string().min(1).max(128),
    models: z.array(z.string().min(1).max(256)).min(1).max(64),
    capacity: z.int().min(1).max(1024),
    engine: z.string().min(1).max(64),
    version: z.string().max(64).optional(),
  }),
  z.object({ type: z.literal("heartbeat") }),
  z.object({ type: z.literal("ack"), assignment_id: z.string() }),
  z.object({ type: z.literal("token"), assignment_id: z.string(), text: z.string() }),
  z.object({
    type: z.literal("precommit"),
    assignment_id: z.string(),
    hash: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  z.object({
    type: z.literal("commit"),
    assignment_id: z.string(),
    text: z.string(),
    finish_reason: z.string().max(32),
    usage: usage.optional(),
  }),
  z.object({ type: z.literal("fail"), assignment_id: z.string(), message: z.string().max(2000) }),
  z.object({ type: z.literal("fetch_blob"), request_id: z.string().max(128), urn: z.string() }),
]);
export type MinerMessage = z.infer<typeof MinerMessage>;

/** Frames the router sends. */
export const RouterMessage = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("welcome"),
    miner_id: z.string(),
    heartbeat_interval_ms: z.int().positive(),
    protocol: z.int(),
  }),
  z.object({
    type: z.literal("task"),
    assignment_id: z.string(),
    session_id: z.int(),
    task_id: z.int(),
    model: z.string(),
    prompt: z.string().optional(),
    prompt_urn: z.string().optional(),
    /**
     * The content behind `prompt_urn`, pushed with the task to save the `fetch_blob` round trip.
     * Only for plain blobs of non-private sessions; a miner uses it only when its sha256 matches the
     * URN's file name (content addressing), and fetches the URN otherwise. Old miners ignore it.
     */
    prompt_blob: z.string().optional(),
    params: TaskParams,
    /** Send token frames; false when nobody is streaming, to save a frame per token. */
    stream: z.boolean().optional(),
  }),
  z.object({ type: z.literal("cancel"), assignment_id: z.string(), reason: z.string() }),
  z.object({
    type: z.literal("blob"),
    request_id: z.string(),
    urn: z.string(),
    content: z.string().optional(),
    error: z.string().optional(),
  }),
  z.object({ type: z.literal("error"), message: z.string() }),
]);
export type RouterMessage = z.infer<typeof RouterMessage>;
export type RouterTaskMessage = Extract<RouterMessage, { type: "task" }>;
