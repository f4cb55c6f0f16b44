import {
  boolean,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { createdAt, idColumn } from "./columns.js";
import { organizations, users } from "./tenancy.js";

/** Customer API keys. Only the SHA-256 of the key is stored; the plaintext is shown once. */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: idColumn(),
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    name: text("name").notNull(),
    /** Lowercase hex SHA-256 of the full key. */
    keyHash: text("key_hash").notNull(),
    /** First 12 characters (`cx_live_XXXX`), for the masked list. */
    start: text("start").notNull(),
    last4: text("last4").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    disabled: boolean("disabled").notNull().default(false),
    rpmLimit: integer("rpm_limit"),
    tpmLimit: integer("tpm_limit"),
    concurrencyLimit: integer("concurrency_limit"),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    /** The key this one replaced through a roll, if any. */
    rolledFromId: text("rolled_from_id"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("api_keys_hash_uq").on(t.keyHash), index("api_keys_org_idx").on(t.orgId)],
);

export type ApiKey = typeof apiKeys.$inferSelect;
