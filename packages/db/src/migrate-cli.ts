import { openDb } from "./client.js";

// `npm run db:migrate`: apply migrations to DATABASE_URL (or the embedded PGlite in ./.data).
// This CLI is the one place in the db package that reads the environment.
const url = process.env.DATABASE_URL;
const dataDir = process.env.PORTAL_DATA_DIR ?? ".data/pglite";
const handle = await openDb({ url, dataDir });
try {
  await handle.migrate();
  console.log(`migrations applied (${handle.kind})`);
} finally {
  await handle.close();
}
