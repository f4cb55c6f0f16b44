import { boolean, index, pgEnum, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, idColumn, updatedAt } from "./columns.js";
import { plans } from "./plans.js";

export const accountStatus = pgEnum("account_status", ["active", "disabled"]);
export const memberRole = pgEnum("member_role", ["owner", "admin", "member"]);

export const organizations = pgTable(
  "organizations",
  {
    id: idColumn(),
    name: text("name").notNull(),
    slug: text("slug").notNull(),
    planId: text("plan_id")
      .notNull()
      .references(() => plans.id),
    status: accountStatus("status").notNull().default("active"),
    disabledReason: text("disabled_reason"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("organizations_slug_uq").on(t.slug)],
);

export const users = pgTable(
  "users",
  {
    id: idColumn(),
    email: text("email").notNull(),
    name: text("name"),
    /** scrypt hash; null for users that only sign in through an external identity provider. */
    passwordHash: text("password_hash"),
    /** `sub` of an external OIDC identity provider, when used. */
    authSubject: text("auth_subject"),
    isOperator: boolean("is_operator").notNull().default(false),
    status: accountStatus("status").notNull().default("active"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("users_email_uq").on(t.email),
    uniqueIndex("users_auth_subject_uq").on(t.authSubject),
  ],
);

export const memberships = pgTable(
  "memberships",
  {
    id: idColumn(),
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: memberRole("role").notNull().default("member"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("memberships_org_user_uq").on(t.orgId, t.userId),
    index("memberships_user_idx").on(t.userId),
  ],
);

export type Organization = typeof organizations.$inferSelect;
export type User = typeof users.$inferSelect;
export type Membership = typeof memberships.$inferSelect;
