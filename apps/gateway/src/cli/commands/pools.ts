import { readFileSync } from "node:fs";
import {
  CreatePoolBody,
  CreateTargetBody,
  UpdatePoolBody,
  UpdateTargetBody,
} from "@portal/contracts";
import {
  addTarget,
  createPool,
  deletePool,
  deleteTarget,
  listPools,
  updatePool,
  updateTarget,
} from "../../services/admin/pools.js";
import {
  arg,
  type CommandGroup,
  type CommandInput,
  defined,
  int,
  requireStr,
  str,
  table,
  UsageError,
  validate,
} from "../command.js";
import { propagationNote } from "../context.js";

/** `--router-key KEY` or `--router-key-file PATH` (keeps the key out of shell history and ps). */
function routerKey(input: CommandInput): string | undefined {
  const inline = str(input, "router-key");
  const file = str(input, "router-key-file");
  if (inline !== undefined && file !== undefined) {
    throw new UsageError("give --router-key or --router-key-file, not both");
  }
  if (file === undefined) return inline;
  try {
    return readFileSync(file, "utf8").trim();
  } catch (err) {
    throw new UsageError(`cannot read --router-key-file: ${(err as Error).message}`);
  }
}

const routerKeyOptions = {
  "router-key": { type: "string", value: "KEY", description: "the router's bearer key" },
  "router-key-file": {
    type: "string",
    value: "PATH",
    description: "read the router key from a file instead",
  },
} as const;

/** `portal pools …`: router pools. */
export const poolsCommands: CommandGroup = {
  name: "pools",
  summary: "list, create, drain/disable and delete router pools",
  commands: [
    {
      name: "list",
      summary: "pools with their targets and the aliases they serve",
      async run(ctx) {
        const pools = await listPools(await ctx.db());
        const rows = pools.flatMap((p) =>
          p.targets.length === 0
            ? [{ pool: p.name, pool_id: p.id, pool_state: p.state, aliases: p.aliases.join(",") }]
            : p.targets.map((t) => ({
                pool: p.name,
                pool_id: p.id,
                pool_state: p.state,
                aliases: p.aliases.join(","),
                target_id: t.id,
                url: t.url,
                session_id: t.session_id,
                weight: t.weight,
                target_state: t.state,
              })),
        );
        // The CLI has no live health view (that lives in each gateway); the JSON says so.
        const json = pools.map((p) => ({
          ...p,
          targets: p.targets.map(({ health: _h, health_detail: _d, ...t }) => t),
        }));
        return {
          json: { data: json },
          text: table(rows, [
            "pool",
            "pool_id",
            "pool_state",
            "aliases",
            "target_id",
            "url",
            "session_id",
            "weight",
            "target_state",
          ]),
        };
      },
    },
    {
      name: "create",
      summary: "create an empty pool",
      args: ["NAME"],
      mutates: true,
      async run(ctx, input) {
        const body = validate(CreatePoolBody, { name: arg(input) });
        const pool = await createPool(await ctx.db(), await ctx.actor(), body);
        const propagation = await ctx.catalogChanged();
        return {
          json: { pool, propagation },
          text: `Created pool ${pool.id} '${pool.name}'.\n${propagationNote(propagation)}`,
        };
      },
    },
    {
      name: "set-state",
      summary: "set a pool's state",
      args: ["POOL"],
      options: {
        state: {
          type: "string",
          value: "active|draining|disabled",
          description: "draining: no new work, requests in flight finish",
          required: true,
        },
      },
      mutates: true,
      async run(ctx, input) {
        const body = validate(UpdatePoolBody, { state: requireStr(input, "state") });
        const poolId = await ctx.resolvePool(arg(input));
        await updatePool(await ctx.db(), await ctx.actor(), poolId, body);
        const propagation = await ctx.catalogChanged();
        return {
          json: { pool: { id: poolId, state: body.state }, propagation },
          text: `Pool ${poolId} is now ${body.state}.\n${propagationNote(propagation)}`,
        };
      },
    },
    {
      name: "delete",
      summary: "delete a pool and its targets (refused while a model alias uses it)",
      args: ["POOL"],
      mutates: true,
      async run(ctx, input) {
        const poolId = await ctx.resolvePool(arg(input));
        await deletePool(await ctx.db(), await ctx.actor(), poolId);
        const propagation = await ctx.catalogChanged();
        return {
          json: { deleted: poolId, propagation },
          text: `Deleted pool ${poolId}.\n${propagationNote(propagation)}`,
        };
      },
    },
  ],
};

/** `portal targets …`: router targets (URL + session + key) inside pools. */
export const targetsCommands: CommandGroup = {
  name: "targets",
  summary: "add, update (weight, drain, key) and remove router targets of a pool",
  commands: [
    {
      name: "add",
      summary: "add a router target to a pool",
      args: ["POOL"],
      options: {
        url: { type: "string", value: "URL", description: "router base URL", required: true },
        "session-id": {
          type: "string",
          value: "N",
          description: "router session id",
          required: true,
        },
        ...routerKeyOptions,
        weight: { type: "string", value: "N", description: "relative weight 0–1000 (default 1)" },
      },
      details:
        "POOL is a pool id or name. The router key is stored encrypted with PORTAL_ENCRYPTION_KEY (or the key the gateway generated into PORTAL_DATA_DIR) and never printed.",
      mutates: true,
      async run(ctx, input) {
        const key = routerKey(input);
        if (key === undefined)
          throw new UsageError("--router-key or --router-key-file is required");
        const body = validate(
          CreateTargetBody,
          defined({
            url: requireStr(input, "url"),
            session_id: int(input, "session-id"),
            router_key: key,
            weight: int(input, "weight"),
          }),
        );
        const poolId = await ctx.resolvePool(arg(input));
        const target = await addTarget(
          await ctx.db(),
          ctx.secrets(),
          await ctx.actor(),
          poolId,
          body,
        );
        const propagation = await ctx.catalogChanged();
        return {
          json: { target, propagation },
          text: `Added target ${target.id} (${target.url}, session ${target.session_id}) to pool ${poolId}.\n${propagationNote(propagation)}`,
        };
      },
    },
    {
      name: "update",
      summary: "change a target's weight or state, or replace its router key",
      args: ["TARGET_ID"],
      options: {
        weight: { type: "string", value: "N", description: "relative weight 0–1000" },
        state: {
          type: "string",
          value: "active|draining|disabled",
          description: "draining: no new work, requests in flight finish",
        },
        ...routerKeyOptions,
      },
      mutates: true,
      async run(ctx, input) {
        const body = validate(
          UpdateTargetBody,
          defined({
            weight: int(input, "weight"),
            state: str(input, "state"),
            router_key: routerKey(input),
          }),
        );
        if (Object.keys(body).length === 0) throw new UsageError("nothing to change: pass a flag");
        const target = await updateTarget(
          await ctx.db(),
          ctx.secrets(),
          await ctx.actor(),
          arg(input),
          body,
        );
        const propagation = await ctx.catalogChanged();
        return {
          json: { target, propagation },
          text: `Updated target ${target.id} (weight ${target.weight}, ${target.state}).\n${propagationNote(propagation)}`,
        };
      },
    },
    {
      name: "remove",
      summary: "remove a target from its pool (drain it first)",
      args: ["TARGET_ID"],
      mutates: true,
      async run(ctx, input) {
        await deleteTarget(await ctx.db(), await ctx.actor(), arg(input));
        const propagation = await ctx.catalogChanged();
        return {
          json: { deleted: arg(input), propagation },
          text: `Removed target ${arg(input)}.\n${propagationNote(propagation)}`,
        };
      },
    },
  ],
};
