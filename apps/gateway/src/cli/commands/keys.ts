import { CreateKeyBody, RollKeyBody, UpdateKeyBody } from "@portal/contracts";
import { listAllKeys, setKeyDisabled } from "../../services/admin/keys.js";
import { createKey, listKeys, revokeKey, rollKey, updateKey } from "../../services/portal/keys.js";
import {
  arg,
  type CommandGroup,
  type CommandInput,
  defined,
  int,
  intOrNone,
  requireStr,
  str,
  table,
  validate,
} from "../command.js";
import { propagationNote } from "../context.js";

const KEY_COLUMNS = ["id", "org_id", "name", "masked", "status", "created_at", "revoked_at"];

const limitOptions = {
  rpm: { type: "string", value: "N|none", description: "requests per minute for this key" },
  tpm: { type: "string", value: "N|none", description: "tokens per minute for this key" },
  concurrency: { type: "string", value: "N|none", description: "concurrent requests for this key" },
} as const;

function limits(input: CommandInput) {
  return defined({
    rpm_limit: intOrNone(input, "rpm"),
    tpm_limit: intOrNone(input, "tpm"),
    concurrency_limit: intOrNone(input, "concurrency"),
  });
}

/** `portal keys …`: issue, list, roll, revoke, disable customer API keys. */
export const keysCommands: CommandGroup = {
  name: "keys",
  summary: "create, list, roll, revoke and disable API keys",
  commands: [
    {
      name: "list",
      summary: "list keys (masked), newest first",
      options: {
        org: { type: "string", value: "ORG", description: "only this org (id or slug)" },
      },
      async run(ctx, input) {
        const db = await ctx.db();
        const org = str(input, "org");
        const keys = org
          ? await listKeys(db, await ctx.resolveOrg(org))
          : await listAllKeys(db, undefined);
        return { json: { data: keys }, text: table(keys, KEY_COLUMNS) };
      },
    },
    {
      name: "create",
      summary: "issue a key for an org; the plaintext is printed once",
      options: {
        org: { type: "string", value: "ORG", description: "org id or slug", required: true },
        name: { type: "string", value: "NAME", description: "a label for the key", required: true },
        "expires-at": {
          type: "string",
          value: "ISO",
          description: "expiry, ISO 8601 with offset (e.g. 2026-12-31T00:00:00Z)",
        },
        ...limitOptions,
      },
      details:
        "Per-key limits may only tighten the org plan's limits. The key is shown once: store it.",
      mutates: true,
      async run(ctx, input) {
        const body = validate(
          CreateKeyBody,
          defined({
            name: requireStr(input, "name"),
            expires_at: str(input, "expires-at"),
            ...limits(input),
          }),
        );
        const orgCtx = await ctx.orgActor(requireStr(input, "org"));
        const created = await createKey(await ctx.db(), orgCtx, body);
        return {
          json: created,
          text: [
            `Created key ${created.key.id} '${created.key.name}' for org ${created.key.org_id}.`,
            "API key (shown once, store it now):",
            `  ${created.plaintext}`,
          ].join("\n"),
        };
      },
    },
    {
      name: "update",
      summary: "rename a key or change its limits",
      args: ["KEY_ID"],
      options: {
        name: { type: "string", value: "NAME", description: "new label" },
        ...limitOptions,
      },
      details: "`none` clears a per-key limit so the plan's limit applies.",
      mutates: true,
      async run(ctx, input) {
        const body = validate(
          UpdateKeyBody,
          defined({ name: str(input, "name"), ...limits(input) }),
        );
        const orgCtx = await ctx.orgOfKey(arg(input));
        const { key, hash } = await updateKey(await ctx.db(), orgCtx, arg(input), body);
        const propagation = await ctx.keysChanged([hash]);
        return {
          json: { key, propagation },
          text: `Updated key ${key.id}.\n${propagationNote(propagation)}`,
        };
      },
    },
    {
      name: "roll",
      summary: "issue a replacement key; the old one stays valid for a grace period",
      args: ["KEY_ID"],
      options: {
        grace: {
          type: "string",
          value: "SECONDS",
          description:
            "how long the old key keeps working (default 86400, 0 = revoke now, max 604800)",
        },
      },
      mutates: true,
      async run(ctx, input) {
        const body = validate(RollKeyBody, defined({ grace_seconds: int(input, "grace") }));
        const orgCtx = await ctx.orgOfKey(arg(input));
        const rolled = await rollKey(await ctx.db(), orgCtx, arg(input), body.grace_seconds);
        const propagation = await ctx.keysChanged([rolled.oldHash]);
        const { oldHash: _hash, ...json } = rolled;
        return {
          json: { ...json, propagation },
          text: [
            `Rolled ${rolled.old_key.id} → ${rolled.key.id}; the old key stops working at ${rolled.old_key.revoked_at}.`,
            "New API key (shown once, store it now):",
            `  ${rolled.plaintext}`,
            propagationNote(propagation),
          ].join("\n"),
        };
      },
    },
    {
      name: "revoke",
      summary: "revoke a key now",
      args: ["KEY_ID"],
      mutates: true,
      async run(ctx, input) {
        const orgCtx = await ctx.orgOfKey(arg(input));
        const { key, hash } = await revokeKey(await ctx.db(), orgCtx, arg(input));
        const propagation = await ctx.keysChanged([hash]);
        return {
          json: { key, propagation },
          text: `Revoked key ${key.id} (${key.masked}) at ${key.revoked_at}.\n${propagationNote(propagation)}`,
        };
      },
    },
    {
      name: "disable",
      summary: "disable a key (reversible with 'keys enable')",
      args: ["KEY_ID"],
      mutates: true,
      run: (ctx, input) => setDisabled(ctx, input, true),
    },
    {
      name: "enable",
      summary: "re-enable a disabled key",
      args: ["KEY_ID"],
      mutates: true,
      run: (ctx, input) => setDisabled(ctx, input, false),
    },
  ],
};

async function setDisabled(
  ctx: Parameters<CommandGroup["commands"][number]["run"]>[0],
  input: CommandInput,
  disabled: boolean,
) {
  const { key, hash } = await setKeyDisabled(
    await ctx.db(),
    await ctx.actor(),
    arg(input),
    disabled,
  );
  const propagation = await ctx.keysChanged([hash]);
  return {
    json: { key, propagation },
    text: `${disabled ? "Disabled" : "Enabled"} key ${key.id}.\n${propagationNote(propagation)}`,
  };
}
