import { listOrgs } from "../../services/admin/orgs.js";
import { type CommandGroup, str, table } from "../command.js";

/** `portal orgs list`: find the org id or slug the other commands take. */
export const orgsCommands: CommandGroup = {
  name: "orgs",
  summary: "list organizations (to find the ORG other commands take)",
  commands: [
    {
      name: "list",
      summary: "organizations, newest first",
      options: {
        search: {
          type: "string",
          value: "TEXT",
          description: "filter by name, slug, id or a member's email",
        },
      },
      async run(ctx, input) {
        const orgs = await listOrgs(await ctx.db(), str(input, "search"));
        return {
          json: { data: orgs },
          text: table(
            orgs.map((o) => ({ ...o, plan: o.plan.slug })),
            ["id", "slug", "name", "status", "plan", "member_count", "active_key_count"],
          ),
        };
      },
    },
  ],
};
