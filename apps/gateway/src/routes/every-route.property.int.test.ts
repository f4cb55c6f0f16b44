// Every operation in the OpenAPI document, under arbitrary path parameters, query strings and
// bodies, sent with the credentials its prefix takes: never a 500, and every refusal is a JSON
// error with a catalogued code (DESIGN §2), never `internal_error`.
import { ErrorCode } from "@portal/contracts";
import { DEEP_TEXT, deepen } from "@portal/router/testing/junk";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FixtureRouter, startFixtureRouter } from "../testing/fixture-router.js";
import {
  createTenant,
  createTestGateway,
  type TestGateway,
  type TestTenant,
} from "../testing/harness.js";
import { asUser, makeOperator, type PortalSession, signUp } from "../testing/portal.js";
import { type JsonSchema, nearlyValid, resolverOf, valid } from "../testing/schema-arbitrary.js";

interface Operation {
  method: string;
  path: string;
  /** Documented query parameters and their schemas. */
  query: Array<{ name: string; schema: JsonSchema }>;
  body: JsonSchema | undefined;
}

let gw: TestGateway;
let router: FixtureRouter;
let tenant: TestTenant;
let op: PortalSession;
let customer: PortalSession;
let operations: Operation[] = [];
let resolve: (ref: string) => JsonSchema = () => ({});
/** Real ids of each kind, so that some requests reach past the lookups into the handlers. */
const known: string[] = [];

beforeAll(async () => {
  gw = await createTestGateway({ maxBodyBytes: 64 * 1024 });
  router = await startFixtureRouter();
  tenant = await createTenant(gw, {
    targets: [{ url: router.url }],
    planLimits: { requestsPerMinuteKey: 100_000, maxConcurrentPerKey: 1_000 },
  });
  op = await signUp(gw, "Operator");
  await makeOperator(gw, op.userId);
  customer = await signUp(gw, "Customer");
  const doc = (await (await gw.app.request("/openapi.json")).json()) as {
    paths: Record<string, Record<string, OperationDoc>>;
    components?: { schemas?: Record<string, JsonSchema> };
  };
  resolve = resolverOf(doc);
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, o]) => ({
      method: method.toUpperCase(),
      path,
      query: (o.parameters ?? [])
        .filter((p) => p.in === "query")
        .map((p) => ({ name: p.name, schema: p.schema ?? {} })),
      body: o.requestBody?.content?.["application/json"]?.schema,
    })),
  );
  const list = async (path: string, field: string) => {
    const res = await asUser(gw, op, "GET", path);
    const json = (await res.json()) as Record<string, Array<{ id: string }>>;
    for (const row of json[field] ?? []) known.push(row.id);
  };
  await list("/admin/api/models", "models");
  await list("/admin/api/pools", "pools");
  known.push(tenant.orgId, tenant.keyId, op.orgId, customer.orgId, op.userId);
});
afterAll(async () => {
  await gw?.close();
  await router?.close();
});

interface OperationDoc {
  parameters?: Array<{ in: string; name: string; schema?: JsonSchema }>;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

const scalar = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer({ min: -1_000_000, max: 1_000_000_000 }),
  fc.constantFrom(
    "",
    "0",
    "-1",
    "1e309",
    "NaN",
    "2026-13-45",
    "2026-02-30",
    "true",
    "%00",
    "../..",
  ),
  fc
    .date({ min: new Date("1900-01-01"), max: new Date("2200-01-01"), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10)),
  fc.integer({ min: 1, max: 12 }).map((m) => `2026-${String(m).padStart(2, "0")}`),
);

/** Query parameters the console and API routes read (the document describes few of them). */
const QUERY_NAMES = ["from", "to", "format", "org_id", "q", "days", "limit", "before", "month"];
const JUNK_BODY = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null"),
  fc.string({ maxLength: 60 }),
  fc.constant(DEEP_TEXT),
);

/** A body as JSON, its id-like fields (`*_id`, `model`) often set to things that exist. */
function withKnownIds(body: fc.Arbitrary<unknown>) {
  return fc
    .tuple(body, fc.boolean(), fc.nat())
    .map(([v, swap, n]) => {
      if (!swap || typeof v !== "object" || v === null || Array.isArray(v)) return v;
      const out = { ...(v as Record<string, unknown>) };
      for (const k of Object.keys(out)) {
        if (k === "model") out[k] = tenant.alias;
        else if (/(^|_)id$/.test(k)) out[k] = known[n % known.length];
      }
      return out;
    })
    .map((v) => deepen(JSON.stringify(v)));
}

/** A request for one operation: params from real ids or junk, a body from its schema or off it. */
function requestFor(o: Operation) {
  const param = fc.oneof(
    fc.constantFrom(...(known.length > 0 ? known : ["x"])),
    fc.string({ minLength: 1, maxLength: 40 }),
    fc.constantFrom("org_", "key_01ABC", "00000000-0000-0000-0000-000000000000", "..", "%2F"),
  );
  const body = o.body
    ? fc.oneof(
        { weight: 3, arbitrary: withKnownIds(valid(o.body, resolve)) },
        { weight: 3, arbitrary: withKnownIds(nearlyValid(o.body, resolve)) },
        { weight: 1, arbitrary: JUNK_BODY },
        { weight: 1, arbitrary: fc.constant(undefined) },
      )
    : fc.oneof(fc.constant(undefined), JUNK_BODY);
  // Documented parameters with values from their schemas (or junk), plus undocumented ones.
  const documented = fc.record(
    Object.fromEntries(
      o.query.map((q) => [q.name, fc.oneof(valid(q.schema, resolve).map(String), scalar)]),
    ),
    { requiredKeys: [] },
  );
  const stray = fc.dictionary(fc.constantFrom(...QUERY_NAMES), scalar, { maxKeys: 2 });
  const query = fc.tuple(stray, documented).map(([a, b]) => ({ ...a, ...b }));
  return fc.record({
    params: fc.array(param, { minLength: 4, maxLength: 4 }),
    body,
    query,
    as: fc.constantFrom("operator", "customer", "key", "nobody"),
  });
}

async function send(o: Operation, r: Req) {
  let i = 0;
  const path = o.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(String(r.params[i++] ?? "x")));
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(r.query))
    qs.set(k, typeof v === "string" ? v : JSON.stringify(v));
  const url = qs.size > 0 ? `${path}?${qs}` : path;
  const withBody = o.method !== "GET" && o.method !== "DELETE" && r.body !== undefined;
  if (r.as === "operator" || r.as === "customer") {
    const session = r.as === "operator" ? op : customer;
    const headers: Record<string, string> = { cookie: session.cookie };
    if (o.method !== "GET") headers["x-csrf-token"] = session.csrf;
    if (withBody) headers["content-type"] = "application/json";
    return gw.app.request(url, {
      method: o.method,
      headers,
      ...(withBody ? { body: r.body } : {}),
    });
  }
  const headers: Record<string, string> = withBody ? { "content-type": "application/json" } : {};
  if (r.as === "key") headers.authorization = `Bearer ${tenant.key}`;
  return gw.app.request(url, { method: o.method, headers, ...(withBody ? { body: r.body } : {}) });
}

interface Req {
  params: unknown[];
  body: string | undefined;
  query: Record<string, unknown>;
  as: "operator" | "customer" | "key" | "nobody";
}

/** Routes that answer in a vendor's error shape instead of the envelope. */
const VENDOR_SHAPED = new Set([
  "/v1/chat/completions",
  "/v1/messages",
  "/v1/messages/count_tokens",
]);

/** Served, but not API operations: the web apps, the reference itself and its assets. */
const NOT_API = [/^GET \/(portal|admin)\/\*$/, /^GET \/docs/, /^GET \/openapi\.json$/];

/** These end or change the sessions every other request rides on; they have tests of their own. */
const SESSION_ENDING = new Set(["POST /portal/api/auth/sign-out", "POST /portal/api/me/password"]);

/** Runs per route; SWEEP_RUNS=1000 for a longer hunt. */
const RUNS = Number(process.env.SWEEP_RUNS ?? 60);

describe("every documented operation under arbitrary input", () => {
  it("documents every operation the app serves", () => {
    const documented = new Set(
      operations.map((o) => `${o.method} ${o.path.replace(/\{(\w+)\}/g, ":$1")}`),
    );
    // The two exports are one route (`:kind{usage|ledger}`), documented as two paths.
    const served = gw.app.routes
      .filter((r) => r.method !== "ALL")
      .flatMap((r) => {
        const kinds = /:kind\{([^}]+)\}/.exec(r.path)?.[1]?.split("|");
        const paths = kinds ? kinds.map((k) => r.path.replace(/:kind\{[^}]+\}/, k)) : [r.path];
        return paths.map((p) => `${r.method} ${p}`);
      });
    const undocumented = [...new Set(served)].filter(
      (s) => !documented.has(s) && !NOT_API.some((re) => re.test(s)),
    );
    expect(undocumented).toEqual([]);
    expect(operations.length).toBeGreaterThan(60);
  });

  it("never answers 500, and refuses only with catalogued JSON errors", async () => {
    const codes = new Set<string>(ErrorCode.options);
    const seen = new Map<string, Set<number>>();
    for (const o of operations) {
      const name = `${o.method} ${o.path}`;
      if (SESSION_ENDING.has(name)) continue;
      await fc.assert(
        fc.asyncProperty(requestFor(o), async (r) => {
          const res = await send(o, r as Req);
          const text = await res.text();
          const label = `${name} ${JSON.stringify(r).slice(0, 600)} -> ${res.status} ${text.slice(0, 400)}`;
          if (!seen.has(name)) seen.set(name, new Set());
          seen.get(name)?.add(res.status);
          expect(res.status, label).toBeLessThan(500);
          if (res.status < 400) return;
          expect(res.headers.get("content-type") ?? "", label).toContain("application/json");
          const json = JSON.parse(text) as {
            type?: unknown;
            error?: { code?: unknown; message?: unknown; type?: unknown };
          };
          expect(typeof json.error?.message, label).toBe("string");
          if (VENDOR_SHAPED.has(o.path)) {
            // The OpenAI and Anthropic routes answer in their vendor's error shape.
            expect(typeof json.error?.type, label).toBe("string");
            expect(json.error?.type, label).not.toMatch(/api_error|server_error/);
            return;
          }
          const code = json.error?.code;
          expect(typeof code === "string" && codes.has(code), label).toBe(true);
          expect(code, label).not.toBe("internal_error");
        }),
        { numRuns: RUNS },
      );
    }
    // The sweep reached the handlers, not only the doors: most operations answered 2xx at least once.
    const reached = [...seen.values()].filter((s) => [...s].some((st) => st < 300)).length;
    expect(reached, JSON.stringify([...seen].map(([k, v]) => [k, [...v]]))).toBeGreaterThan(
      operations.length / 3,
    );
  }, 240_000);
});
