// Child process: the fast fixture router both bench targets forward to.
import { countTokens } from "@portal/router/tokens";
import { startFixtureRouter } from "../src/testing/fixture-router.js";
import { BENCH_PROMPT } from "./load-shared.js";

// The bench prompt's real count, as a router would report it (a router reporting more than the
// prompt holds is capped by the gateway and logged: not the path the bench measures).
const router = await startFixtureRouter({ promptTokens: countTokens(BENCH_PROMPT) });
process.stdout.write(`READY ${router.url}\n`);
process.on("SIGTERM", () => void router.close().then(() => process.exit(0)));
