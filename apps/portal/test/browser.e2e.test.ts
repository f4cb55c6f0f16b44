import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumPresent, type RunningProduct, repoRoot, startProduct } from "./product.js";

/**
 * The web app in real Chromium against the real product (`npm start`'s gateway with embedded
 * routers and demo miners): sign up, keys, a completion, usage, roll and revoke; then an operator
 * drains a target and disables the org. Screenshots of the main pages go to docs/screenshots/.
 */

const shots = path.join(repoRoot, "docs", "screenshots");
const haveChromium = chromiumPresent("portal browser tests");

const OPERATOR_EMAIL = "operator@portal.test";
const OPERATOR_PASSWORD = "operator-password-e2e";
let product: RunningProduct | undefined;
let base = "";
let browser: Browser | undefined;

beforeAll(async () => {
  if (!haveChromium) return;
  mkdirSync(shots, { recursive: true });
  product = await startProduct({
    operatorEmail: OPERATOR_EMAIL,
    operatorPassword: OPERATOR_PASSWORD,
    env: { USAGE_FLUSH_INTERVAL_MS: "100" },
  });
  ({ base, browser } = product);
});

afterAll(async () => {
  await product?.stop();
});

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  if (!browser) throw new Error("no browser");
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = await context.newPage();
  page.on("dialog", (d) => void d.accept());
  return { context, page };
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

async function complete(key: string) {
  const res = await fetch(`${base}/v1/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "default",
      prompt: "Say hello from the browser test.",
      max_tokens: 16,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function signIn(page: Page, email: string, password: string) {
  await page.goto(`${base}/portal`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function createKey(page: Page, name: string): Promise<string> {
  await page.getByLabel("Key name").fill(name);
  await page.getByRole("button", { name: "Create key" }).click();
  const shown = page.getByTestId("new-key");
  await shown.waitFor();
  return (await shown.textContent())?.trim() ?? "";
}

describe.skipIf(!haveChromium)("portal in Chromium", () => {
  const email = `e2e-${Date.now()}@example.com`;
  const password = "browser-test-password";

  it("signs up, creates and copies a key, uses it, sees usage, rolls and revokes it", async () => {
    const { context, page } = await newPage();
    await page.goto(`${base}/portal`);
    await shot(page, "sign-in");
    await page.getByRole("button", { name: "Create an account" }).click();
    await page.getByLabel("Name").fill("E2E Tester");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "API keys" }).waitFor();

    // Create, reveal once, copy.
    const key = await createKey(page, "browser");
    expect(key).toMatch(/^cx_live_[1-9A-HJ-NP-Za-km-z]{40}$/);
    await page.getByRole("button", { name: "Copy", exact: true }).click();
    await page.getByRole("button", { name: "Copied" }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    const row = page.locator("tr", { hasText: "browser" });
    await expect(row.locator("code").textContent()).resolves.toBe(
      `${key.slice(0, 12)}…${key.slice(-4)}`,
    );
    await shot(page, "keys");

    // Use it from the test against the real gateway → router → miner.
    const models = await fetch(`${base}/v1/models`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(models.status).toBe(200);
    expect(
      ((await models.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id),
    ).toContain("default");
    const first = await complete(key);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ status: "ok", model: "default" });

    // Sign out and back in.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await signIn(page, email, password);
    await page.getByRole("heading", { name: "API keys" }).waitFor();

    // The playground streams a completion through the gateway with a temporary key it mints.
    await page.getByRole("link", { name: "Playground" }).click();
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByTestId("stream-phase").getByText("done").waitFor();
    expect((await page.getByTestId("answer").textContent())?.length).toBeGreaterThan(0);
    // Streamed: several envelope events (deltas, then the final one with usage), not one body.
    const stats = (await page.getByTestId("stream-stats").textContent()) ?? "";
    expect(Number(/(\d+) events/.exec(stats)?.[1])).toBeGreaterThanOrEqual(3);
    expect(await page.getByTestId("request-id").textContent()).toMatch(/^req_/);
    expect(await page.getByTestId("cost").textContent()).toMatch(/^\d+\.\d+ USD$/);
    const envelope = JSON.parse((await page.getByTestId("envelope").textContent()) ?? "{}");
    expect(envelope).toMatchObject({
      status: "ok",
      model: "default",
      data: { usage: { cost: { currency: "USD" } }, timing: {} },
      error: null,
    });
    await expect(page.getByTestId("temporary-key-note").textContent()).resolves.toMatch(
      /valid until/,
    );
    await shot(page, "playground");
    // A bad pasted key: the failure envelope is shown, not a blank answer.
    await page.getByLabel("Paste one of your keys").check();
    await page.getByLabel("API key").fill("cx_live_not-a-real-key");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByTestId("stream-error").waitFor();
    expect(await page.getByTestId("stream-error").textContent()).toContain("unauthorized");

    // Usage shows both requests (usage is written in batches; poll the page).
    await page.getByRole("link", { name: "Usage" }).click();
    await expect
      .poll(
        async () => {
          await page.reload();
          const total = page.getByTestId("total-requests");
          await total.waitFor();
          return Number((await total.textContent())?.replace(/\D/g, ""));
        },
        { timeout: 15_000, interval: 500 },
      )
      .toBeGreaterThanOrEqual(2);
    expect(await page.getByTestId("allowance").textContent()).toMatch(/of 1,000\s+requests used/);
    await page.locator(".recharts-bar-rectangle").first().waitFor();
    await shot(page, "usage");

    for (const [link, name] of [
      ["Docs", "docs"],
      ["Billing", "billing"],
      ["Profile", "profile"],
    ] as const) {
      await page.getByRole("link", { name: link }).click();
      await page.locator("h1").first().waitFor();
      await shot(page, name);
    }
    await page.getByRole("link", { name: "Billing" }).click();
    await page.getByTestId("balance-none").waitFor();
    await page.getByTestId("ledger-empty").waitFor();

    // Roll: a new key is revealed and works; the old one keeps working during the grace period.
    await page.getByRole("link", { name: "API keys" }).click();
    await page.locator("tr", { hasText: "browser" }).getByRole("button", { name: "Roll" }).click();
    await page.getByText("Key rolled").waitFor();
    const rolled = (await page.getByTestId("new-key").textContent())?.trim() ?? "";
    expect(rolled).not.toBe(key);
    expect((await complete(rolled)).status).toBe(200);
    expect((await complete(key)).status).toBe(200);

    // Revoke the old key (now "rolling"): the gateway refuses it at once.
    const oldRow = page.locator("tr", { hasText: `${key.slice(0, 12)}…${key.slice(-4)}` });
    await oldRow.getByRole("button", { name: "Revoke" }).click();
    await oldRow.getByText("revoked").waitFor();
    const refused = await complete(key);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ status: "failed", error: { code: "key_revoked" } });
    expect((await complete(rolled)).status).toBe(200);
    await context.close();
  });

  it("lets an operator drain a target and disable the org", async () => {
    const customer = await newPage();
    await signIn(customer.page, email, password);
    await customer.page.getByRole("heading", { name: "API keys" }).waitFor();
    const liveKey = await createKey(customer.page, "for-operator-test");
    expect((await complete(liveKey)).status).toBe(200);

    const { context, page } = await newPage();
    await signIn(page, OPERATOR_EMAIL, OPERATOR_PASSWORD);
    await page.getByRole("heading", { name: "API keys" }).waitFor();
    await page.getByRole("link", { name: "Operator" }).click();
    await page.getByRole("heading", { name: "Organizations" }).waitFor();

    // Drain one of the two embedded routers: /health then counts one routable target.
    await page.getByRole("link", { name: "Pools" }).click();
    await page.getByTestId("pool-health-default").waitFor();
    expect(await page.getByTestId("pool-health-default").textContent()).toContain("2/2");
    const targetId = await page
      .locator("tr[data-target-id]")
      .first()
      .getAttribute("data-target-id");
    const targetRow = page.locator(`tr[data-target-id="${targetId}"]`);
    await targetRow.getByRole("button", { name: "Drain" }).click();
    await targetRow.getByText("draining").waitFor();
    await expect
      .poll(async () => {
        const health = (await (await fetch(`${base}/health`)).json()) as {
          pools: Array<{ name: string; healthy: number; total: number }>;
        };
        return health.pools.find((p) => p.name === "default");
      })
      .toMatchObject({ healthy: 1, total: 2 });
    // Requests still succeed on the remaining target.
    expect((await complete(liveKey)).status).toBe(200);
    await shot(page, "admin-pools");

    // Disable the customer's org: their key is refused at once.
    await page.getByRole("link", { name: "Organizations" }).click();
    await page.getByLabel("Search organizations").fill(email);
    await page.getByRole("button", { name: "Search" }).click();
    await page.locator("tr[data-org-id]").first().getByRole("button").first().click();
    await page.getByLabel("Disable reason").fill("browser test");
    await page.getByRole("button", { name: "Disable organization" }).click();
    await page.getByRole("button", { name: "Enable organization" }).waitFor();
    const disabled = await complete(liveKey);
    expect(disabled.status).toBe(403);
    expect(disabled.body).toMatchObject({ error: { code: "account_disabled" } });
    await shot(page, "admin-orgs");

    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByText("org.disabled").first().waitFor();
    await page.getByText("target.updated").first().waitFor();
    await shot(page, "admin-audit");
    await context.close();
    await customer.context.close();
  });
});
