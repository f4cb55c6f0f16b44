// Production bundles for the three deployables: apps/{gateway,router,miner}/dist/main.mjs, plus
// the operator CLI beside the gateway (apps/gateway/dist/cli.mjs: `node apps/gateway/dist/cli.mjs`)
// and the gateway's usage-writer thread (apps/gateway/dist/usage-writer.mjs).
// Our workspace code (@portal/*, TypeScript) is bundled; every third-party package stays external
// and is loaded from node_modules at run time (PGlite's WASM, ws's optional natives, pino, …).
// `npm start` and the tests keep running from the TypeScript sources with tsx.
//
// Invariant: each bundle sits two directories below the repository root (apps/<app>/dist/), the
// same depth as packages/db/src/client.ts, so the `new URL("../../../migrations",
// import.meta.url)` it carries still resolves to the repository's migrations/ folder. The check
// at the end fails the build if that ever stops being true.
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { externalThirdParty } from "./esbuild-external.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const apps = ["gateway", "router", "miner"];
/** Entry points per app (src/<name>.ts → dist/<bundle>.mjs). */
const entries = {
  gateway: [
    ["main.ts", "main.mjs"],
    ["cli/main.ts", "cli.mjs"],
    // The usage writer's worker thread (services/usage/writer-host.ts starts it from dist/).
    ["services/usage/writer-thread.ts", "usage-writer.mjs"],
  ],
  router: [["main.ts", "main.mjs"]],
  miner: [["main.ts", "main.mjs"]],
};

const selected = process.argv.slice(2);
for (const name of selected) {
  if (!apps.includes(name)) throw new Error(`unknown app "${name}" (one of ${apps.join(", ")})`);
}

for (const app of selected.length > 0 ? selected : apps) {
  const outdir = path.join(root, "apps", app, "dist");
  rmSync(outdir, { recursive: true, force: true });
  // One build per app, split: code shared by its entries, and modules loaded with import() (the
  // gateway's embedded router stack), go to chunks beside them, so a production gateway never
  // loads the router package. Chunks stay in dist/ itself: the migrations invariant holds for
  // whichever file ends up carrying packages/db.
  const result = await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(
      entries[app].map(([source, bundle]) => [
        bundle.replace(/\.mjs$/, ""),
        path.join("apps", app, "src", source),
      ]),
    ),
    outdir,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunk-[hash]",
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "linked",
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
    plugins: [externalThirdParty],
  });
  for (const [, bundle] of entries[app]) {
    const outfile = path.join(outdir, bundle);
    const migrations = fileURLToPath(new URL("../../../migrations", pathToFileURL(outfile)));
    if (!existsSync(path.join(migrations, "meta", "_journal.json"))) {
      throw new Error(
        `${outfile}: migrations would resolve to ${migrations}, which has no journal`,
      );
    }
  }
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  const files = Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".mjs")).length;
  process.stdout.write(
    `${path.relative(root, outdir)}/  ${entries[app].map(([, b]) => b).join(", ")} + ${files - entries[app].length} chunks, ${(bytes / 1024).toFixed(0)} KiB\n`,
  );
}
