export { and, asc, desc, eq, gt, gte, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
export * from "./client.js";
export * from "./partitions.js";
export * from "./schema/index.js";
