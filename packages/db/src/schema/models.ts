import { boolean, integer, pgEnum, pgTable, text, unique, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, idColumn, micros, updatedAt } from "./columns.js";
import { plans } from "./plans.js";
import { routerPools } from "./pools.js";
import { organizations } from "./tenancy.js";

export const modelState = pgEnum("model_state", ["active", "disabled"]);
/** `public`: every plan unless denied; `restricted`: only plans/orgs with an allow row. */
export const modelVisibility = pgEnum("model_visibility", ["public", "restricted"]);

/** A public model alias, the pool that serves it, its template, limits and prices. */
export const models = pgTable(
  "models",
  {
    id: idColumn(),
    alias: text("alias").notNull(),
    poolId: text("pool_id")
      .notNull()
      .references(() => routerPools.id),
    displayName: text("display_name").notNull(),
    ownedBy: text("owned_by").notNull().default("portal"),
    /** Prompt template; `{prompt}` is replaced by the request's prompt. */
    promptTemplate: text("prompt_template").notNull().default("{prompt}"),
    contextLength: integer("context_length").notNull(),
    defaultMaxTokens: integer("default_max_tokens").notNull(),
    maxMaxTokens: integer("max_max_tokens").notNull(),
    /** micro-USD per million input tokens. */
    inputPriceMicros: micros("input_price_micros").notNull(),
    /** micro-USD per million output tokens. */
    outputPriceMicros: micros("output_price_micros").notNull(),
    visibility: modelVisibility("visibility").notNull().default("public"),
    state: modelState("state").notNull().default("active"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("models_alias_uq").on(t.alias)],
);

/** Per plan or per org allow/deny rows for a model (an org row overrides its plan's). */
export const modelAccess = pgTable(
  "model_access",
  {
    id: idColumn(),
    modelId: text("model_id")
      .notNull()
      .references(() => models.id, { onDelete: "cascade" }),
    planId: text("plan_id").references(() => plans.id, { onDelete: "cascade" }),
    orgId: text("org_id").references(() => organizations.id, { onDelete: "cascade" }),
    allowed: boolean("allowed").notNull(),
    createdAt: createdAt(),
  },
  (t) => [unique("model_access_scope_uq").on(t.modelId, t.planId, t.orgId).nullsNotDistinct()],
);

export type Model = typeof models.$inferSelect;
export type ModelAccess = typeof modelAccess.$inferSelect;
