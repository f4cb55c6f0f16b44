import { CreateModelBody, SetModelAccessBody, UpdateModelBody } from "@portal/contracts";
import {
  createModel,
  listModels,
  setModelAccess,
  updateModel,
} from "../../services/admin/models.js";
import { listPools } from "../../services/admin/pools.js";
import {
  arg,
  type CommandGroup,
  type CommandInput,
  defined,
  int,
  type OptionSpec,
  str,
  table,
  UsageError,
  validate,
} from "../command.js";
import type { CliContext } from "../context.js";
import { propagationNote } from "../context.js";

const modelOptions = {
  pool: { type: "string", value: "POOL", description: "pool id or name serving the alias" },
  "display-name": { type: "string", value: "NAME", description: "human-readable name" },
  template: {
    type: "string",
    value: "TEMPLATE",
    description: "prompt template containing {prompt} (default '{prompt}')",
  },
  "context-length": { type: "string", value: "N", description: "context window in tokens" },
  "default-max-tokens": { type: "string", value: "N", description: "max_tokens when not sent" },
  "max-max-tokens": { type: "string", value: "N", description: "largest max_tokens accepted" },
  "input-price": {
    type: "string",
    value: "MICROS",
    description: "micro-USD per million prompt tokens",
  },
  "output-price": {
    type: "string",
    value: "MICROS",
    description: "micro-USD per million completion tokens",
  },
  visibility: {
    type: "string",
    value: "public|restricted",
    description: "restricted = only plans/orgs given access",
  },
} satisfies Record<string, OptionSpec>;

/** The flags shared by add and update, as the contract's field names. */
async function modelFields(ctx: CliContext, input: CommandInput) {
  const pool = str(input, "pool");
  const price = (name: string) => {
    const v = str(input, name);
    if (v !== undefined && !/^\d+$/.test(v)) {
      throw new UsageError(`--${name} must be a whole number of micro-USD, got '${v}'`);
    }
    return v;
  };
  return defined({
    pool_id: pool === undefined ? undefined : await ctx.resolvePool(pool),
    display_name: str(input, "display-name"),
    prompt_template: str(input, "template"),
    context_length: int(input, "context-length"),
    default_max_tokens: int(input, "default-max-tokens"),
    max_max_tokens: int(input, "max-max-tokens"),
    input_price_micros: price("input-price"),
    output_price_micros: price("output-price"),
    visibility: str(input, "visibility"),
  });
}

const MODEL_COLUMNS = [
  "id",
  "alias",
  "pool",
  "state",
  "visibility",
  "context_length",
  "max_max_tokens",
  "input_price_micros",
  "output_price_micros",
];

/** `portal models …`: public aliases over pools, with prices, limits and access. */
export const modelsCommands: CommandGroup = {
  name: "models",
  summary: "list, add and update model aliases; allow or deny them per plan or org",
  commands: [
    {
      name: "list",
      summary: "every model with its pool and prices",
      async run(ctx) {
        const db = await ctx.db();
        const [rows, pools] = await Promise.all([listModels(db), listPools(db)]);
        const poolNames = new Map(pools.map((p) => [p.id, p.name]));
        return {
          json: { data: rows },
          text: table(
            rows.map((m) => ({ ...m, pool: poolNames.get(m.pool_id) ?? m.pool_id })),
            MODEL_COLUMNS,
          ),
        };
      },
    },
    {
      name: "add",
      summary: "add a model alias over a pool",
      args: ["ALIAS"],
      options: {
        ...modelOptions,
        pool: { ...modelOptions.pool, required: true },
        "display-name": { ...modelOptions["display-name"], description: "default: the alias" },
        "context-length": { ...modelOptions["context-length"], required: true },
        "default-max-tokens": { ...modelOptions["default-max-tokens"], required: true },
        "max-max-tokens": { ...modelOptions["max-max-tokens"], required: true },
        "input-price": { ...modelOptions["input-price"], required: true },
        "output-price": { ...modelOptions["output-price"], required: true },
        "owned-by": { type: "string", value: "NAME", description: "owned_by in /v1/models" },
      },
      mutates: true,
      async run(ctx, input) {
        const fields = await modelFields(ctx, input);
        const body = validate(CreateModelBody, {
          alias: arg(input),
          display_name: arg(input),
          ...fields,
          ...defined({ owned_by: str(input, "owned-by") }),
        });
        const model = await createModel(await ctx.db(), await ctx.actor(), body);
        const propagation = await ctx.catalogChanged();
        return {
          json: { model, propagation },
          text: `Added model ${model.id} '${model.alias}' on pool ${model.pool_id}.\n${propagationNote(propagation)}`,
        };
      },
    },
    {
      name: "update",
      summary: "change a model's pool, prices, limits, template, visibility or state",
      args: ["MODEL"],
      options: {
        ...modelOptions,
        state: { type: "string", value: "active|disabled", description: "disable or re-enable" },
      },
      details: "MODEL is a model id or alias.",
      mutates: true,
      async run(ctx, input) {
        const modelId = await ctx.resolveModel(arg(input));
        const body = validate(UpdateModelBody, {
          ...(await modelFields(ctx, input)),
          ...defined({ state: str(input, "state") }),
        });
        if (Object.keys(body).length === 0) throw new UsageError("nothing to change: pass a flag");
        const model = await updateModel(await ctx.db(), await ctx.actor(), modelId, body);
        const propagation = await ctx.catalogChanged();
        return {
          json: { model, propagation },
          text: `Updated model ${model.id} '${model.alias}'.\n${propagationNote(propagation)}`,
        };
      },
    },
    {
      name: "access",
      summary: "allow or deny a model for one plan or one org",
      args: ["MODEL"],
      options: {
        plan: { type: "string", value: "PLAN_ID", description: "the plan's id" },
        org: { type: "string", value: "ORG", description: "an org id or slug" },
        allow: { type: "boolean", description: "allow the model" },
        deny: { type: "boolean", description: "deny the model" },
      },
      details: "Give exactly one of --plan/--org and one of --allow/--deny.",
      mutates: true,
      async run(ctx, input) {
        const allow = input.values.allow === true;
        const deny = input.values.deny === true;
        if (allow === deny) throw new UsageError("give exactly one of --allow or --deny");
        const modelId = await ctx.resolveModel(arg(input));
        const org = str(input, "org");
        const body = validate(
          SetModelAccessBody,
          defined({
            plan_id: str(input, "plan"),
            org_id: org === undefined ? undefined : await ctx.resolveOrg(org),
            allowed: allow,
          }),
        );
        const rule = await setModelAccess(await ctx.db(), await ctx.actor(), modelId, body);
        const propagation = await ctx.catalogChanged();
        return {
          json: { rule, propagation },
          text: `${allow ? "Allowed" : "Denied"} ${arg(input)} for ${rule.org_id ? `org ${rule.org_id}` : `plan ${rule.plan_id}`}.\n${propagationNote(propagation)}`,
        };
      },
    },
  ],
};
