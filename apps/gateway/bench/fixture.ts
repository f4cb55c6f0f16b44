// Child process: the fast fixture router both bench targets forward to.
import { startFixtureRouter } from "../src/testing/fixture-router.js";

const router = await startFixtureRouter({ promptTokens: 8 });
process.stdout.write(`READY ${router.url}\n`);
process.on("SIGTERM", () => void router.close().then(() => process.exit(0)));
