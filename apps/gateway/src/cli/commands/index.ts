import type { CommandGroup } from "../command.js";
import { exportCommands } from "./export.js";
import { keysCommands } from "./keys.js";
import { migrateCommands } from "./migrate.js";
import { modelsCommands } from "./models.js";
import { orgsCommands } from "./orgs.js";
import { poolsCommands, targetsCommands } from "./pools.js";
import { usageCommands } from "./usage.js";

/**
 * Every `portal` command group, in the order `portal --help` lists them. One line per group:
 * a new group is a file in this folder exporting a `CommandGroup` (see ../command.ts) plus one
 * line here.
 */
export const commandGroups: readonly CommandGroup[] = [
  keysCommands,
  orgsCommands,
  modelsCommands,
  poolsCommands,
  targetsCommands,
  usageCommands,
  exportCommands,
  migrateCommands,
];
