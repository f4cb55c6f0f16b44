import { index, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, idColumn } from "./columns.js";
import { memberRole, organizations, users } from "./tenancy.js";

/**
 * An invitation to join an org. Only the SHA-256 of the token is stored; the invitee accepts
 * by presenting the token while signed in with the invited email.
 */
export const invitations = pgTable(
  "invitations",
  {
    id: idColumn(),
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    /** Lower-cased. */
    email: text("email").notNull(),
    role: memberRole("role").notNull().default("member"),
    tokenHash: text("token_hash").notNull(),
    invitedBy: text("invited_by").references(() => users.id, { onDelete: "set null" }),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    acceptedAt: timestamp("accepted_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("invitations_token_hash_uq").on(t.tokenHash),
    index("invitations_org_idx").on(t.orgId),
    index("invitations_email_idx").on(t.email),
  ],
);

export type Invitation = typeof invitations.$inferSelect;
