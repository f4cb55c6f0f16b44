import type { CommandGroup } from "../command.js";

/** `portal migrate`: apply the checked-in migrations, exactly as the gateway does at start. */
export const migrateCommands: CommandGroup = {
  name: "migrate",
  summary: "apply pending database migrations",
  commands: [
    {
      name: "",
      summary: "apply pending database migrations",
      details:
        "Applies migrations/ to DATABASE_URL (or the embedded PGlite in PORTAL_DATA_DIR/pglite) under the same advisory lock the gateways take, then creates the current and upcoming partitions. Safe to run while gateways start; a no-op when up to date.",
      async run(ctx) {
        const handle = await ctx.dbHandle();
        await handle.migrate();
        return {
          json: { migrated: true, database: handle.kind },
          text: `Migrations applied (${handle.kind}).`,
        };
      },
    },
  ],
};
