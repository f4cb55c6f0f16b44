// Build the web app when dist/ is missing or older than any source file; otherwise do nothing
// (a directory walk, so `npm start` stays fast on the second run).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const marker = path.join(root, "dist", "index.html");
const sources = [
  path.join(root, "src"),
  path.join(root, "index.html"),
  path.join(root, "vite.config.ts"),
  path.join(root, "package.json"),
  path.resolve(root, "..", "..", "packages", "contracts", "src"),
];

function newest(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const entry of readdirSync(p)) max = Math.max(max, newest(path.join(p, entry)));
  return max;
}

const built = existsSync(marker) ? statSync(marker).mtimeMs : 0;
const changed = Math.max(...sources.map(newest));
if (built > 0 && built >= changed) process.exit(0);

console.log(built ? "portal web app changed; rebuilding…" : "building the portal web app…");
const vite = path.resolve(root, "..", "..", "node_modules", "vite", "bin", "vite.js");
const result = spawnSync(process.execPath, [vite, "build", "--logLevel", "warn"], {
  cwd: root,
  stdio: "inherit",
});
process.exit(result.status ?? 1);
