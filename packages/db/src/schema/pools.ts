import { index, integer, pgEnum, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, idColumn, updatedAt } from "./columns.js";

export const poolState = pgEnum("pool_state", ["active", "draining", "disabled"]);
export const targetState = pgEnum("target_state", ["active", "draining", "disabled"]);

/** A managed pool of router targets behind one or more model aliases. */
export const routerPools = pgTable(
  "router_pools",
  {
    id: idColumn(),
    name: text("name").notNull(),
    strategy: text("strategy").notNull().default("least_outstanding"),
    state: poolState("state").notNull().default("active"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("router_pools_name_uq").on(t.name)],
);

/** One router node + session inside a pool. The router key is encrypted at rest. */
export const routerTargets = pgTable(
  "router_targets",
  {
    id: idColumn(),
    poolId: text("pool_id")
      .notNull()
      .references(() => routerPools.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    sessionId: integer("session_id").notNull(),
    /** AES-256-GCM ciphertext of the router's bearer key (`v1.<iv>.<tag>.<data>`, base64url). */
    routerKeyCiphertext: text("router_key_ciphertext").notNull(),
    weight: integer("weight").notNull().default(1),
    state: targetState("state").notNull().default("active"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("router_targets_pool_url_session_uq").on(t.poolId, t.url, t.sessionId),
    index("router_targets_pool_idx").on(t.poolId),
  ],
);

export type RouterPool = typeof routerPools.$inferSelect;
export type RouterTarget = typeof routerTargets.$inferSelect;
