import { z } from "zod";
import { DisplayName, OperatorNote } from "./portal.js";

/** Request bodies of the operator API (`/admin/api/*`). */

const Slug = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "lowercase letters, digits, '.', '_' and '-'");

export const DisableOrgBody = z.strictObject({ reason: OperatorNote });
export const UpdateAdminOrgBody = z.strictObject({ plan: z.string().min(1).max(64) });
export const SetDisabledBody = z.strictObject({ disabled: z.boolean() });

const Micros = z
  .union([z.string().regex(/^\d{1,15}$/), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)])
  .transform((v) => BigInt(v));

export const CreateModelBody = z.strictObject({
  alias: Slug,
  pool_id: z.string().min(1),
  display_name: DisplayName,
  owned_by: z.string().trim().min(1).max(64).default("portal"),
  prompt_template: z
    .string()
    .max(20_000)
    .refine((t) => t.includes("{prompt}"), "must contain {prompt}")
    .default("{prompt}"),
  context_length: z.number().int().min(1).max(10_000_000),
  default_max_tokens: z.number().int().min(1).max(1_000_000),
  max_max_tokens: z.number().int().min(1).max(1_000_000),
  /** micro-USD per million input tokens. */
  input_price_micros: Micros,
  /** micro-USD per million output tokens. */
  output_price_micros: Micros,
  visibility: z.enum(["public", "restricted"]).default("public"),
});

export const UpdateModelBody = z.strictObject({
  pool_id: z.string().min(1).optional(),
  display_name: DisplayName.optional(),
  prompt_template: z
    .string()
    .max(20_000)
    .refine((t) => t.includes("{prompt}"), "must contain {prompt}")
    .optional(),
  context_length: z.number().int().min(1).max(10_000_000).optional(),
  default_max_tokens: z.number().int().min(1).max(1_000_000).optional(),
  max_max_tokens: z.number().int().min(1).max(1_000_000).optional(),
  input_price_micros: Micros.optional(),
  output_price_micros: Micros.optional(),
  visibility: z.enum(["public", "restricted"]).optional(),
  state: z.enum(["active", "disabled"]).optional(),
});

/** Allow or deny a model for a plan or for one org (exactly one of the two). */
export const SetModelAccessBody = z
  .strictObject({
    plan_id: z.string().min(1).optional(),
    org_id: z.string().min(1).optional(),
    allowed: z.boolean(),
  })
  .refine((b) => (b.plan_id === undefined) !== (b.org_id === undefined), {
    message: "give exactly one of plan_id or org_id",
  });

export const CreatePoolBody = z.strictObject({ name: Slug });
export const UpdatePoolBody = z.strictObject({ state: z.enum(["active", "draining", "disabled"]) });

export const CreateTargetBody = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(500),
  session_id: z.number().int().min(0).max(2_147_483_647),
  /** The router's bearer key; stored encrypted, never returned. */
  router_key: z.string().min(1).max(500),
  weight: z.number().int().min(0).max(1000).default(1),
});

export const UpdateTargetBody = z.strictObject({
  weight: z.number().int().min(0).max(1000).optional(),
  state: z.enum(["active", "draining", "disabled"]).optional(),
  router_key: z.string().min(1).max(500).optional(),
});

export const AuditQuery = z.object({
  org_id: z.string().optional(),
  before: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const PlanLimit = (max: number) => z.number().int().min(1).max(max);
/** Edit a plan's name and limits; every org on the plan is affected at once. */
export const UpdatePlanBody = z
  .strictObject({
    name: DisplayName.optional(),
    requests_per_minute_key: PlanLimit(1_000_000).optional(),
    requests_per_minute_org: PlanLimit(10_000_000).optional(),
    tokens_per_minute_org: PlanLimit(1_000_000_000).optional(),
    max_concurrent_per_key: PlanLimit(10_000).optional(),
    /** Requests per ISO week; null removes the allowance. */
    weekly_request_allowance: PlanLimit(1_000_000_000).nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: "give at least one field to change" });

/** Disable or re-enable a user's console access, or grant or revoke the operator role. */
export const UpdateUserBody = z
  .strictObject({
    status: z.enum(["active", "disabled"]).optional(),
    is_operator: z.boolean().optional(),
  })
  .refine((b) => b.status !== undefined || b.is_operator !== undefined, {
    message: "give status or is_operator",
  });

/** `GET /admin/api/orgs`: find orgs by part of a name or id, or a member's email. */
export const OrgSearchQuery = z.object({
  q: z
    .string()
    .trim()
    .max(200)
    .optional()
    .describe("Part of an org's name or id, or a member's email"),
});

/** `GET /admin/api/keys`: every org's keys, or one org's. */
export const KeysQuery = z.object({
  org_id: z.string().trim().max(200).optional().describe("Only this org's keys"),
});

export const UsersQuery = z.object({
  q: z.string().trim().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(100),
});
