import type { OpenAPIHono } from "@hono/zod-openapi";
import {
  AcceptInvitationBody,
  AuditQuery,
  ChangePasswordBody,
  CheckoutBody,
  CreateInvitationBody,
  CreateKeyBody,
  CreateModelBody,
  CreateOrgBody,
  CreatePoolBody,
  CreateTargetBody,
  DisableOrgBody,
  type ErrorCode,
  ExportQueryFields,
  KeysQuery,
  OrgExportQueryFields,
  OrgSearchQuery,
  ReconciliationQuery,
  RollKeyBody,
  SetDisabledBody,
  SetModelAccessBody,
  SignInBody,
  SignUpBody,
  StatementQuery,
  UpdateAdminOrgBody,
  UpdateKeyBody,
  UpdateMemberBody,
  UpdateModelBody,
  UpdateOrgBody,
  UpdatePlanBody,
  UpdatePoolBody,
  UpdateProfileBody,
  UpdateTargetBody,
  UpdateUserBody,
  UsageQuery,
  UsersQuery,
} from "@portal/contracts";
import type { z } from "zod";
import { failureResponses } from "./responses.js";

type Method = "get" | "post" | "patch" | "put" | "delete";
/** method, path, summary, JSON body, success status, query parameters. */
type Route = [Method, string, string, z.ZodType | null, number?, z.ZodObject?];

const SESSION: ErrorCode[] = ["unauthorized", "forbidden", "not_found", "internal_error"];
const MUTATION: ErrorCode[] = [...SESSION, "invalid_request", "invalid_json", "conflict"];

/** Customer console API (`/portal/api`): session cookie + X-CSRF-Token, or an IdP bearer JWT. */
const PORTAL: Route[] = [
  ["get", "/portal/api/auth/config", "Sign-in methods (password, identity provider)", null],
  [
    "post",
    "/portal/api/auth/sign-up",
    "Create an account and a personal org; sets the session cookie",
    SignUpBody,
    201,
  ],
  [
    "post",
    "/portal/api/auth/sign-in",
    "Sign in (throttled per email and client); sets the session cookie",
    SignInBody,
  ],
  ["post", "/portal/api/auth/sign-out", "End the session", null, 204],
  ["get", "/portal/api/me", "The signed-in user, their orgs and the CSRF token", null],
  ["patch", "/portal/api/me", "Update the profile", UpdateProfileBody],
  [
    "post",
    "/portal/api/me/password",
    "Change the password (ends other sessions)",
    ChangePasswordBody,
    204,
  ],
  [
    "post",
    "/portal/api/me/invitations/accept",
    "Accept an invitation addressed to your email",
    AcceptInvitationBody,
  ],
  ["get", "/portal/api/orgs", "Your orgs and roles", null],
  ["post", "/portal/api/orgs", "Create an org (you become owner)", CreateOrgBody, 201],
  ["get", "/portal/api/orgs/{orgId}", "One of your orgs", null],
  ["patch", "/portal/api/orgs/{orgId}", "Rename an org (owner, admin)", UpdateOrgBody],
  ["get", "/portal/api/orgs/{orgId}/members", "Members", null],
  [
    "patch",
    "/portal/api/orgs/{orgId}/members/{memberId}",
    "Change a role (owner)",
    UpdateMemberBody,
  ],
  ["delete", "/portal/api/orgs/{orgId}/members/{memberId}", "Remove a member or leave", null, 204],
  ["get", "/portal/api/orgs/{orgId}/invitations", "Pending invitations (owner, admin)", null],
  [
    "post",
    "/portal/api/orgs/{orgId}/invitations",
    "Invite an email; the token is returned once",
    CreateInvitationBody,
    201,
  ],
  [
    "delete",
    "/portal/api/orgs/{orgId}/invitations/{invitationId}",
    "Withdraw an invitation",
    null,
    204,
  ],
  ["get", "/portal/api/orgs/{orgId}/keys", "API keys, masked", null],
  [
    "post",
    "/portal/api/orgs/{orgId}/keys",
    "Create a key; the plaintext is returned once (owner, admin)",
    CreateKeyBody,
    201,
  ],
  [
    "patch",
    "/portal/api/orgs/{orgId}/keys/{keyId}",
    "Rename a key or set per-key limits",
    UpdateKeyBody,
  ],
  [
    "post",
    "/portal/api/orgs/{orgId}/keys/{keyId}/roll",
    "Issue a replacement; the old key works for the grace period",
    RollKeyBody,
    201,
  ],
  ["post", "/portal/api/orgs/{orgId}/keys/{keyId}/revoke", "Revoke a key now", null],
  [
    "get",
    "/portal/api/orgs/{orgId}/usage",
    "Daily requests, tokens and cost by model and key; weekly allowance (?days=1..90)",
    null,
    200,
    UsageQuery,
  ],
  [
    "get",
    "/portal/api/orgs/{orgId}/billing",
    "Plan; balance and ledger are null until billing exists",
    null,
  ],
  ["get", "/portal/api/orgs/{orgId}/models", "Models the org may use", null],
  [
    "post",
    "/portal/api/orgs/{orgId}/billing/checkout",
    "Buy prepaid credits: a Stripe Checkout session URL (owners/admins; 404 without Stripe)",
    CheckoutBody,
    201,
  ],
  [
    "get",
    "/portal/api/orgs/{orgId}/billing/exports/usage",
    "Usage events streamed as CSV or JSON Lines (?from=&to= UTC days, &format=csv|jsonl; owners/admins)",
    null,
    200,
    OrgExportQueryFields,
  ],
  [
    "get",
    "/portal/api/orgs/{orgId}/billing/exports/ledger",
    "Ledger entries streamed as CSV or JSON Lines (?from=&to=&format=; owners/admins)",
    null,
    200,
    OrgExportQueryFields,
  ],
  [
    "get",
    "/portal/api/orgs/{orgId}/billing/statement",
    "Monthly statement: totals by model and key, ledger, balances (?month=YYYY-MM&format=json|csv)",
    null,
    200,
    StatementQuery,
  ],
  [
    "post",
    "/portal/api/orgs/{orgId}/playground-key",
    "A 15-minute, tightly limited API key for the console playground (owner, admin)",
    null,
    201,
  ],
];

/** Operator API (`/admin/api`): operators only; everyone else gets 404. Every change is audited. */
const ADMIN: Route[] = [
  [
    "get",
    "/admin/api/billing/exports/usage",
    "Usage events of one org (?org_id=) or all orgs, streamed (?from=&to=&format=csv|jsonl)",
    null,
    200,
    ExportQueryFields,
  ],
  [
    "get",
    "/admin/api/billing/exports/ledger",
    "Ledger entries of one org (?org_id=) or all orgs, streamed (?from=&to=&format=)",
    null,
    200,
    ExportQueryFields,
  ],
  [
    "get",
    "/admin/api/orgs/{orgId}/billing/statement",
    "An org's monthly statement",
    null,
    200,
    StatementQuery,
  ],
  [
    "get",
    "/admin/api/billing/reconciliation",
    "Hour by hour: our usage and ledger vs the meter events sent to Stripe (?from=&to=&org_id=)",
    null,
    200,
    ReconciliationQuery,
  ],
  [
    "post",
    "/admin/api/billing/rollup",
    "Roll closed hours of usage into the ledger and outbox now",
    null,
  ],
  ["get", "/admin/api/me", "The signed-in operator", null],
  ["get", "/admin/api/plans", "Plans", null],
  [
    "patch",
    "/admin/api/plans/{planId}",
    "Edit a plan's name and limits (every org on the plan at once)",
    UpdatePlanBody,
  ],
  ["get", "/admin/api/users", "Find users (?q= name or email; &limit=)", null, 200, UsersQuery],
  [
    "patch",
    "/admin/api/users/{userId}",
    "Disable or re-enable a user, or change the operator role",
    UpdateUserBody,
  ],
  ["get", "/admin/api/orgs", "Find orgs (?q= name, id or member email)", null, 200, OrgSearchQuery],
  ["get", "/admin/api/orgs/{orgId}", "An org with members and keys", null],
  ["patch", "/admin/api/orgs/{orgId}", "Change an org's plan", UpdateAdminOrgBody],
  [
    "post",
    "/admin/api/orgs/{orgId}/disable",
    "Disable an org (its keys are refused at once)",
    DisableOrgBody,
  ],
  ["post", "/admin/api/orgs/{orgId}/enable", "Re-enable an org", null],
  ["get", "/admin/api/keys", "Keys (?org_id=)", null, 200, KeysQuery],
  ["post", "/admin/api/keys/{keyId}/disabled", "Disable or re-enable a key", SetDisabledBody],
  ["get", "/admin/api/models", "Models with their access rules", null],
  ["post", "/admin/api/models", "Create a model alias over a pool", CreateModelBody, 201],
  [
    "patch",
    "/admin/api/models/{modelId}",
    "Edit prices, template, limits, pool, state",
    UpdateModelBody,
  ],
  [
    "put",
    "/admin/api/models/{modelId}/access",
    "Allow or deny a model for a plan or an org",
    SetModelAccessBody,
  ],
  ["delete", "/admin/api/models/{modelId}/access/{ruleId}", "Remove an access rule", null, 204],
  ["get", "/admin/api/pools", "Pools with targets (router keys never returned)", null],
  ["post", "/admin/api/pools", "Create a pool", CreatePoolBody, 201],
  ["patch", "/admin/api/pools/{poolId}", "Set a pool's state", UpdatePoolBody],
  ["delete", "/admin/api/pools/{poolId}", "Delete a pool no model uses", null, 204],
  [
    "post",
    "/admin/api/pools/{poolId}/targets",
    "Add a router target (key encrypted at rest)",
    CreateTargetBody,
    201,
  ],
  [
    "patch",
    "/admin/api/targets/{targetId}",
    "Weight, drain, disable, or replace the router key",
    UpdateTargetBody,
  ],
  ["delete", "/admin/api/targets/{targetId}", "Remove a router target", null, 204],
  [
    "post",
    "/admin/api/targets/{targetId}/check",
    "Run the target's health check now (GET {router}/api/v1/status)",
    null,
  ],
  ["get", "/admin/api/requests/{requestId}", "Request log and usage event of one request", null],
  [
    "get",
    "/admin/api/audit",
    "Audit log, newest first (?org_id=&before=&limit=)",
    null,
    200,
    AuditQuery,
  ],
];

function register(app: OpenAPIHono, routes: Route[], tag: string): void {
  for (const [method, path, summary, body, status = 200, query] of routes) {
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1] ?? "",
      in: "path" as const,
      required: true,
      schema: { type: "string" as const },
    }));
    app.openAPIRegistry.registerPath({
      method,
      path,
      summary,
      tags: [tag],
      security:
        path.includes("/auth/sign-") || path.endsWith("/auth/config")
          ? []
          : [{ portalSession: [] }, { identityToken: [] }],
      ...(params.length ? { parameters: params } : {}),
      request: {
        ...(body
          ? { body: { required: true, content: { "application/json": { schema: body } } } }
          : {}),
        ...(query ? { query } : {}),
      },
      responses: {
        [status]: {
          description: status === 204 ? "Done" : "OK",
          ...(status === 204
            ? {}
            : { content: { "application/json": { schema: { type: "object" as const } } } }),
        },
        ...failureResponses(method === "get" ? SESSION : MUTATION),
        ...(path.endsWith("/sign-in") ? failureResponses(["rate_limited"]) : {}),
      },
    });
  }
}

/** Document the portal and operator JSON APIs in the gateway's OpenAPI document. */
export function registerConsolePaths(app: OpenAPIHono): void {
  const registry = app.openAPIRegistry;
  registry.registerComponent("securitySchemes", "portalSession", {
    type: "apiKey",
    in: "cookie",
    name: "portal_session",
    description:
      "Session cookie set by sign-in. State-changing requests must also send `X-CSRF-Token` (from sign-in or GET /portal/api/me).",
  });
  registry.registerComponent("securitySchemes", "identityToken", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "A JWT from the configured identity provider (PORTAL_OIDC_*), verified against its JWKS.",
  });
  register(app, PORTAL, "Portal console");
  register(app, ADMIN, "Operator console");
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/webhooks/stripe",
    summary:
      "Stripe event deliveries (Stripe-Signature verified, 5-minute replay window); checkout.session.completed credits, charge.refunded refunds, each exactly once",
    tags: ["Billing"],
    security: [],
    responses: {
      200: {
        description: "Received",
        content: { "application/json": { schema: { type: "object" as const } } },
      },
      ...failureResponses(["invalid_request", "not_found", "payload_too_large", "internal_error"]),
    },
  });
}
