export {
  and,
  asc,
  desc,
  eq,
  gt,
  gte,
  inArray,
  isNull,
  lt,
  lte,
  or,
  type SQL,
  sql,
} from "drizzle-orm";
export * from "./client.js";
export * from "./partitions.js";
export * from "./rows.js";
export * from "./schema/index.js";
