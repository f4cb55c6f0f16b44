import { bigint, text, timestamp } from "drizzle-orm/pg-core";

/** Primary key: a prefixed ULID minted by `newId` (text, time-sortable). */
export const idColumn = () => text("id").primaryKey();

export const createdAt = () =>
  timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
export const updatedAt = () =>
  timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

/** Money in integer micro-USD; read as bigint so no float ever touches it. */
export const micros = (name: string) => bigint(name, { mode: "bigint" });
