import { index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt, idColumn } from "./columns.js";
import { users } from "./tenancy.js";

/**
 * Portal web sessions. The cookie carries a signed JWT whose `sid` is a row here, so signing
 * out (or an operator disabling a user) ends the session server-side, not just in the browser.
 */
export const portalSessions = pgTable(
  "portal_sessions",
  {
    id: idColumn(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    userAgent: text("user_agent"),
    ip: text("ip"),
    createdAt: createdAt(),
  },
  (t) => [index("portal_sessions_user_idx").on(t.userId)],
);

export type PortalSession = typeof portalSessions.$inferSelect;
