import type { MembershipView, MeResponse } from "@portal/contracts";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumPresent, type RunningProduct, startProduct } from "./product.js";

/**
 * A signed-in user who belongs to no organization (they left their only one), in real Chromium
 * against the real product: the app shows a get-started screen and Profile instead of a dead end;
 * they change their password, create an org or accept an invitation, and land in that org.
 * Started like browser.e2e.test.ts (`npm start`'s gateway, the built web app: product.ts).
 */

const haveChromium = chromiumPresent("no-organization browser tests");
const PASSWORD = "no-org-test-password";
let product: RunningProduct | undefined;
let base = "";
let browser: Browser | undefined;

beforeAll(async () => {
  if (!haveChromium) return;
  product = await startProduct({
    operatorEmail: "operator@portal.test",
    operatorPassword: "operator-password-e2e",
  });
  ({ base, browser } = product);
});

afterAll(async () => {
  await product?.stop();
});

/** A browser context signed up through the JSON API (its cookie is the page's cookie too). */
interface Account {
  context: BrowserContext;
  page: Page;
  me: MeResponse;
  call<T>(method: string, url: string, body?: unknown): Promise<T>;
}

let seq = 0;
async function signUp(label: string): Promise<Account> {
  if (!browser) throw new Error("no browser");
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const email = `${label}-${Date.now()}-${++seq}@example.com`;
  const res = await context.request.post(`${base}/portal/api/auth/sign-up`, {
    data: { email, password: PASSWORD, name: label },
  });
  expect(res.status(), await res.text()).toBe(201);
  const me = (await res.json()) as MeResponse;
  const call = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const r = await context.request.fetch(`${base}${url}`, {
      method,
      headers: { "x-csrf-token": me.csrf_token ?? "" },
      ...(body !== undefined ? { data: body } : {}),
    });
    expect(r.ok(), `${method} ${url}: ${r.status()} ${await r.text()}`).toBe(true);
    return (r.status() === 204 ? undefined : await r.json()) as T;
  };
  return { context, page: await context.newPage(), me, call };
}

function orgOf(account: Account): MembershipView {
  const m = account.me.memberships[0];
  if (!m) throw new Error(`${account.me.user.email} has no org`);
  return m;
}

/** An invitation code for `email` to `account`'s first org. */
async function invite(account: Account, email: string, role: string): Promise<string> {
  const org = orgOf(account).org.id;
  return (
    await account.call<{ token: string }>("POST", `/portal/api/orgs/${org}/invitations`, {
      email,
      role,
    })
  ).token;
}

/**
 * A user with no organization, the way it happens: they hand their org to `heir` (invited as
 * owner, accepted) and leave it.
 */
async function orphan(label: string, heir: Account): Promise<Account> {
  const user = await signUp(label);
  const token = await invite(user, heir.me.user.email, "owner");
  await heir.call("POST", "/portal/api/me/invitations/accept", { token });
  const org = orgOf(user).org.id;
  const members = await user.call<{ data: Array<{ id: string; user_id: string }> }>(
    "GET",
    `/portal/api/orgs/${org}/members`,
  );
  const mine = members.data.find((m) => m.user_id === user.me.user.id);
  await user.call("DELETE", `/portal/api/orgs/${org}/members/${mine?.id}`);
  const now = await user.call<MeResponse>("GET", "/portal/api/me");
  expect(now.memberships).toEqual([]);
  return user;
}

describe.skipIf(!haveChromium)("portal for a user with no organization", () => {
  let heir: Account;
  beforeAll(async () => {
    if (haveChromium) heir = await signUp("heir");
  });
  afterAll(async () => {
    await heir?.context.close();
  });

  it("shows the get-started screen and Profile, then creates an org and lands in it", async () => {
    const user = await orphan("creator", heir);
    const { page } = user;
    await page.goto(`${base}/portal/usage`);
    await page.getByRole("heading", { name: "No organization yet" }).waitFor();
    expect(await page.getByText("You are not a member of any organization.").count()).toBe(0);
    // Only what works without an org is in the navigation.
    const nav = page.getByRole("navigation", { name: "Portal" });
    expect(await nav.getByRole("link").allTextContents()).toEqual(["Get started", "Profile"]);

    // Profile works: display name and password, with the API's errors on the form.
    await nav.getByRole("link", { name: "Profile" }).click();
    await page.getByRole("heading", { name: "Profile" }).waitFor();
    await page.getByLabel("Name", { exact: true }).fill("Creator Renamed");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Saved.").waitFor();
    expect((await user.call<MeResponse>("GET", "/portal/api/me")).user.name).toBe(
      "Creator Renamed",
    );
    const passwordCard = page.locator("section.card", { hasText: "Change password" });
    await passwordCard.getByLabel("Current password").fill("not-the-password");
    await passwordCard.getByLabel("New password").fill("a-brand-new-password");
    await passwordCard.getByRole("button", { name: "Change password" }).click();
    await expect(passwordCard.getByRole("alert").textContent()).resolves.toBe(
      "The current password is wrong.",
    );
    await passwordCard.getByLabel("Current password").fill(PASSWORD);
    await passwordCard.getByRole("button", { name: "Change password" }).click();
    await passwordCard.getByText("Password changed").waitFor();
    expect(await passwordCard.getByRole("alert").count()).toBe(0);
    const signIn = await fetch(`${base}/portal/api/auth/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: user.me.user.email, password: "a-brand-new-password" }),
    });
    expect(signIn.status).toBe(200);
    await page.getByText("not a member of any organization yet").waitFor();

    // Create an org: a name the API refuses shows its error; a good one opens the new org.
    await page.getByRole("link", { name: "Create one" }).click();
    await page.getByRole("heading", { name: "No organization yet" }).waitFor();
    const createCard = page.locator("section.card", { hasText: "Create an organization" });
    await createCard.getByLabel("Organization name").fill("   ");
    await createCard.getByRole("button", { name: "Create organization" }).click();
    await expect(createCard.getByRole("alert").textContent()).resolves.toMatch(/^Invalid request/);
    await createCard.getByLabel("Organization name").fill("Creator Co");
    await createCard.getByRole("button", { name: "Create organization" }).click();
    await page.getByRole("heading", { name: "API keys" }).waitFor();
    expect(await nav.getByRole("link").allTextContents()).toContain("Usage");

    // It is a working org the user owns: a key can be created, Profile shows it.
    await page.getByLabel("Key name").fill("first");
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByTestId("new-key").waitFor();
    await nav.getByRole("link", { name: "Profile" }).click();
    await page.getByRole("heading", { name: "Organization: Creator Co" }).waitFor();
    await page.getByText("Your role: owner.").waitFor();
    const me = await user.call<MeResponse>("GET", "/portal/api/me");
    expect(me.memberships.map((m) => [m.org.name, m.role])).toEqual([["Creator Co", "owner"]]);
    await user.context.close();
  });

  it("accepts an invitation from the get-started screen and lands in that org", async () => {
    const user = await orphan("joiner", heir);
    const { page } = user;
    await page.goto(`${base}/portal`);
    await page.getByRole("heading", { name: "No organization yet" }).waitFor();

    const joinCard = page.locator("section.card", { hasText: "Join an organization" });
    await joinCard.getByLabel("Invitation code").fill(`inv_${"x".repeat(40)}`);
    await joinCard.getByRole("button", { name: "Join" }).click();
    await joinCard.getByRole("alert").waitFor();
    expect(await joinCard.getByRole("alert").textContent()).toMatch(/invitation/i);
    await page.getByRole("heading", { name: "No organization yet" }).waitFor();

    const heirOrg = orgOf(heir).org;
    const token = await invite(heir, user.me.user.email, "member");
    await joinCard.getByLabel("Invitation code").fill(token);
    await joinCard.getByRole("button", { name: "Join" }).click();
    await page.getByRole("heading", { name: "API keys" }).waitFor();
    await page.getByRole("link", { name: "Profile" }).click();
    await page.getByRole("heading", { name: `Organization: ${heirOrg.name}` }).waitFor();
    await page.getByText("Your role: member.").waitFor();
    await user.context.close();
  });
});
