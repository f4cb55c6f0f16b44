import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { parseEnv } from "./env.js";

// Static checks of infra/: every YAML file parses, Kubernetes documents carry the fields the API
// server requires per kind and reference each other consistently, the compose file wires the
// scaled-out stack, nginx is SSE-safe, and the images run non-root with a command. There is no
// Docker engine or cluster here, so this is what "valid" can mean in a test.

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const infra = path.join(repoRoot, "infra");

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Follow a dotted path through nested objects; undefined when any step is missing. */
function at(v: unknown, dotted: string): unknown {
  let cur = v;
  for (const key of dotted.split(".")) {
    if (!isObj(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

function obj(v: unknown, what: string): Obj {
  if (!isObj(v)) throw new Error(`${what}: expected a mapping, got ${JSON.stringify(v)}`);
  return v;
}

function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${what}: expected a list, got ${JSON.stringify(v)}`);
  return v;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(full);
    return /\.ya?ml$/.test(e.name) ? [full] : [];
  });
}

/** Parse every document of a YAML file (merge keys on, as compose uses them); fail on errors. */
function parseYaml(file: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(file, "utf8"), { merge: true });
  if (!Array.isArray(docs)) throw new Error(`${file}: not a YAML stream`);
  return docs.map((d, i) => {
    const problems = [...d.errors, ...d.warnings].map((e) => e.message);
    if (problems.length > 0) throw new Error(`${file} doc ${i}: ${problems.join("; ")}`);
    return d.toJS();
  });
}

interface K8sDoc {
  file: string;
  apiVersion: string;
  kind: string;
  name: string;
  namespace: unknown;
  raw: Obj;
}

const k8sDir = path.join(infra, "k8s");
const k8sFiles = yamlFiles(k8sDir).filter((f) => path.basename(f) !== "kustomization.yaml");
const k8s: K8sDoc[] = k8sFiles.flatMap((file) =>
  parseYaml(file)
    .filter((d) => d !== null)
    .map((d) => {
      const raw = obj(d, file);
      return {
        file: path.relative(repoRoot, file),
        apiVersion: String(raw.apiVersion),
        kind: String(raw.kind),
        name: String(at(raw, "metadata.name")),
        namespace: at(raw, "metadata.namespace"),
        raw,
      };
    }),
);

const ofKind = (kind: string) => k8s.filter((d) => d.kind === kind);
const one = (kind: string, name: string): K8sDoc => {
  const found = k8s.find((d) => d.kind === kind && d.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in infra/k8s`);
  return found;
};
const workloads = () => [...ofKind("Deployment"), ...ofKind("StatefulSet")];
const podSpec = (d: K8sDoc) => obj(at(d.raw, "spec.template.spec"), `${d.file} pod spec`);
const containers = (d: K8sDoc) =>
  arr(podSpec(d).containers, `${d.file} containers`).map((c) => obj(c, `${d.file} container`));
const labelsMatch = (selector: unknown, labels: unknown) =>
  isObj(selector) &&
  Object.keys(selector).length > 0 &&
  isObj(labels) &&
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The group/version each kind we ship must use (the GA APIs, none deprecated). */
const API_VERSION: Record<string, string> = {
  Namespace: "v1",
  ConfigMap: "v1",
  Secret: "v1",
  Service: "v1",
  Deployment: "apps/v1",
  StatefulSet: "apps/v1",
  HorizontalPodAutoscaler: "autoscaling/v2",
  PodDisruptionBudget: "policy/v1",
  Ingress: "networking.k8s.io/v1",
};

describe("infra YAML", () => {
  it("every YAML file under infra/ parses without errors or warnings", () => {
    const files = yamlFiles(infra);
    expect(files.map((f) => path.relative(infra, f))).toEqual(
      expect.arrayContaining(["compose.yml", "compose.dev.yml", "k8s/gateway-deployment.yaml"]),
    );
    for (const f of files) expect(parseYaml(f).length, f).toBeGreaterThan(0);
  });
});

describe("Kubernetes manifests", () => {
  it("ship the expected objects", () => {
    const names = k8s.map((d) => `${d.kind}/${d.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        "Namespace/portal",
        "ConfigMap/portal-gateway-config",
        "ConfigMap/portal-router-config",
        "Secret/portal-secrets",
        "Deployment/portal-gateway",
        "Service/portal-gateway",
        "HorizontalPodAutoscaler/portal-gateway",
        "PodDisruptionBudget/portal-gateway",
        "StatefulSet/portal-router",
        "Service/portal-router",
        "Deployment/portal-miner-0",
        "Deployment/portal-miner-1",
        "Ingress/portal-gateway",
      ]),
    );
    expect(new Set(names).size, "duplicate kind/name").toBe(names.length);
  });

  it("every document has apiVersion, kind, a DNS-safe metadata.name and the portal namespace", () => {
    for (const d of k8s) {
      const where = `${d.file} ${d.kind}/${d.name}`;
      expect(API_VERSION[d.kind], `${where}: unexpected kind`).toBeDefined();
      expect(d.apiVersion, where).toBe(API_VERSION[d.kind]);
      expect(d.name, where).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
      if (d.kind === "Namespace") expect(d.namespace, where).toBeUndefined();
      else expect(d.namespace, where).toBe("portal");
    }
  });

  it("workloads: selector matches template labels, containers have name + image, pods are non-root", () => {
    expect(workloads().length).toBeGreaterThanOrEqual(4);
    for (const d of workloads()) {
      const where = `${d.file} ${d.kind}/${d.name}`;
      expect(
        labelsMatch(
          at(d.raw, "spec.selector.matchLabels"),
          at(d.raw, "spec.template.metadata.labels"),
        ),
        `${where}: spec.selector.matchLabels must match spec.template.metadata.labels`,
      ).toBe(true);
      const cs = containers(d);
      expect(cs.length, where).toBeGreaterThan(0);
      const names = cs.map((c) => c.name);
      expect(new Set(names).size, `${where}: container names must be unique`).toBe(names.length);
      expect(podSpec(d).securityContext, where).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
      });
      for (const c of cs) {
        expect(c.name, where).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        expect(typeof c.image === "string" && c.image.length > 0, `${where}: image`).toBe(true);
        // What the namespace's `restricted` Pod Security level demands of every container.
        expect(c.securityContext, `${where} ${String(c.name)}`).toMatchObject({
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
        });
      }
    }
  });

  it("volumes mounted by containers are declared by the pod or a claim template", () => {
    for (const d of workloads()) {
      const declared = new Set([
        ...((podSpec(d).volumes as Obj[] | undefined) ?? []).map((v) => v.name),
        ...((at(d.raw, "spec.volumeClaimTemplates") as Obj[] | undefined) ?? []).map((v) =>
          at(v, "metadata.name"),
        ),
      ]);
      for (const c of containers(d)) {
        for (const m of (c.volumeMounts as Obj[] | undefined) ?? []) {
          expect(declared.has(m.name), `${d.file}: volume ${String(m.name)} not declared`).toBe(
            true,
          );
        }
      }
    }
  });

  it("env references point at ConfigMaps and Secret keys that exist", () => {
    const configMaps = new Map(ofKind("ConfigMap").map((d) => [d.name, obj(d.raw.data, d.file)]));
    const secrets = new Map(
      ofKind("Secret").map((d) => [d.name, obj(d.raw.stringData ?? d.raw.data, d.file)]),
    );
    for (const d of workloads()) {
      for (const c of containers(d)) {
        for (const from of (c.envFrom as Obj[] | undefined) ?? []) {
          const cm = at(from, "configMapRef.name");
          const sec = at(from, "secretRef.name");
          if (cm !== undefined) expect(configMaps.has(String(cm)), `${d.file}: ${cm}`).toBe(true);
          if (sec !== undefined) expect(secrets.has(String(sec)), `${d.file}: ${sec}`).toBe(true);
        }
        for (const e of (c.env as Obj[] | undefined) ?? []) {
          expect(e.name, d.file).toMatch(/^[A-Z_][A-Z0-9_]*$/);
          const ref = at(e, "valueFrom.secretKeyRef");
          if (ref !== undefined) {
            const data = secrets.get(String(at(ref, "name")));
            expect(data, `${d.file}: secret of ${String(e.name)}`).toBeDefined();
            expect(Object.keys(data ?? {}), `${d.file}: key of ${String(e.name)}`).toContain(
              at(ref, "key"),
            );
          } else {
            expect(typeof e.value, `${d.file}: ${String(e.name)} must be a string`).toBe("string");
          }
        }
      }
    }
  });

  it("ConfigMap and Secret values are strings, and the Secret holds placeholders only", () => {
    for (const d of [...ofKind("ConfigMap"), ...ofKind("Secret")]) {
      const data = obj(d.raw.data ?? d.raw.stringData, `${d.file} data`);
      for (const [k, v] of Object.entries(data)) {
        expect(typeof v, `${d.file} ${d.name}.${k} must be a string (quote numbers)`).toBe(
          "string",
        );
      }
    }
    for (const [k, v] of Object.entries(obj(one("Secret", "portal-secrets").raw.stringData, "s"))) {
      expect(String(v), `secret ${k} must be a placeholder`).toMatch(/^REPLACE_ME/);
    }
  });

  it("the gateway ConfigMap is a valid gateway environment once the secrets are filled in", () => {
    const config = obj(one("ConfigMap", "portal-gateway-config").raw.data, "config");
    const parsed = parseEnv({
      ...(config as Record<string, string>),
      DATABASE_URL: "postgres://portal:secret@db.internal:5432/portal",
      REDIS_URL: "redis://redis.internal:6379",
      PORTAL_ENCRYPTION_KEY: "a".repeat(64),
      PORTAL_SESSION_SECRET: "s".repeat(40),
    });
    expect(parsed, JSON.stringify(parsed)).toMatchObject({ ok: true });
    if (!parsed.ok) return;
    expect(parsed.env).toMatchObject({ NODE_ENV: "production", HOST: "0.0.0.0" });
    expect(parsed.env.EMBEDDED_ROUTERS).toBe(0);
  });

  it("the gateway Deployment probes /readyz and /livez and outlives its own drain bound", () => {
    const gw = one("Deployment", "portal-gateway");
    const [c] = containers(gw);
    const ports = ((c?.ports as Obj[] | undefined) ?? []).map((p) => p.name);
    expect(c?.readinessProbe).toMatchObject({ httpGet: { path: "/readyz" } });
    expect(c?.livenessProbe).toMatchObject({ httpGet: { path: "/livez" } });
    for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
      expect(ports, `${probe} port must be a declared container port`).toContain(
        at(c, `${probe}.httpGet.port`),
      );
    }
    const resources = obj(c?.resources, "gateway resources");
    expect(resources.requests).toMatchObject({
      cpu: expect.any(String),
      memory: expect.any(String),
    });
    expect(at(resources, "limits.memory")).toEqual(expect.any(String));

    const preStop = arr(at(c, "lifecycle.preStop.exec.command"), "preStop");
    expect(preStop[0]).toBe("sleep");
    const preStopS = Number(preStop[1]);
    const config = obj(one("ConfigMap", "portal-gateway-config").raw.data, "config");
    const shutdownS = Number(config.SHUTDOWN_TIMEOUT_MS) / 1000;
    expect(shutdownS).toBeGreaterThan(0);
    const grace = Number(podSpec(gw).terminationGracePeriodSeconds);
    expect(
      grace,
      `terminationGracePeriodSeconds must exceed preStop ${preStopS}s + SHUTDOWN_TIMEOUT_MS ${shutdownS}s`,
    ).toBeGreaterThan(preStopS + shutdownS);
    // The HPA owns the replica count.
    expect(at(gw.raw, "spec.replicas")).toBeUndefined();
    expect(at(gw.raw, "spec.strategy.rollingUpdate.maxUnavailable")).toBe(0);
  });

  it("Services have ports and select pods of a workload, with named target ports that exist", () => {
    for (const svc of ofKind("Service")) {
      const ports = arr(at(svc.raw, "spec.ports"), `${svc.file} ports`).map((p) => obj(p, "port"));
      expect(ports.length, svc.file).toBeGreaterThan(0);
      const selected = workloads().filter((w) =>
        labelsMatch(at(svc.raw, "spec.selector"), at(w.raw, "spec.template.metadata.labels")),
      );
      expect(selected.length, `${svc.file}: selector matches no workload`).toBeGreaterThan(0);
      for (const p of ports) {
        expect(Number.isInteger(p.port), `${svc.file}: port`).toBe(true);
        if (typeof p.targetPort === "string") {
          for (const w of selected) {
            const named = containers(w).flatMap((c) =>
              ((c.ports as Obj[] | undefined) ?? []).map((cp) => cp.name),
            );
            expect(named, `${svc.file} → ${w.name}`).toContain(p.targetPort);
          }
        }
      }
    }
  });

  it("the router StatefulSet names its headless Service, which publishes not-ready pods", () => {
    const sts = one("StatefulSet", "portal-router");
    const serviceName = at(sts.raw, "spec.serviceName");
    expect(serviceName).toEqual(expect.any(String));
    const headless = one("Service", String(serviceName));
    expect(at(headless.raw, "spec.clusterIP")).toBe("None");
    expect(at(headless.raw, "spec.publishNotReadyAddresses")).toBe(true);
    const [c] = containers(sts);
    expect(c?.readinessProbe).toMatchObject({ httpGet: { path: "/readyz" } });
    expect(c?.livenessProbe).toMatchObject({ httpGet: { path: "/livez" } });
    const replicas = Number(at(sts.raw, "spec.replicas"));
    // Each router pod has a miner Deployment dialing it by its stable DNS name.
    for (let i = 0; i < replicas; i++) {
      const miner = one("Deployment", `portal-miner-${i}`);
      const env = arr(containers(miner)[0]?.env, `${miner.name} env`);
      const url = env.find((e) => at(e, "name") === "MINER_ROUTER_URL");
      expect(at(url, "value")).toBe(
        `ws://portal-router-${i}.${String(serviceName)}.portal.svc.cluster.local:5010/ws/miners`,
      );
    }
  });

  it("the HPA targets the gateway Deployment with sane bounds", () => {
    const hpa = one("HorizontalPodAutoscaler", "portal-gateway");
    expect(at(hpa.raw, "spec.scaleTargetRef")).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "portal-gateway",
    });
    const min = Number(at(hpa.raw, "spec.minReplicas"));
    const max = Number(at(hpa.raw, "spec.maxReplicas"));
    expect(min).toBeGreaterThanOrEqual(2);
    expect(max).toBeGreaterThanOrEqual(min);
    expect(arr(at(hpa.raw, "spec.metrics"), "metrics").length).toBeGreaterThan(0);
  });

  it("the PDB selects the gateway pods with exactly one of minAvailable / maxUnavailable", () => {
    const pdb = one("PodDisruptionBudget", "portal-gateway");
    const spec = obj(pdb.raw.spec, "pdb spec");
    expect(("minAvailable" in spec ? 1 : 0) + ("maxUnavailable" in spec ? 1 : 0)).toBe(1);
    const gw = one("Deployment", "portal-gateway");
    expect(
      labelsMatch(at(spec, "selector.matchLabels"), at(gw.raw, "spec.template.metadata.labels")),
    ).toBe(true);
    // minAvailable must leave room to evict at least one replica at the HPA's floor.
    const floor = Number(
      at(one("HorizontalPodAutoscaler", "portal-gateway").raw, "spec.minReplicas"),
    );
    if (typeof spec.minAvailable === "number") expect(spec.minAvailable).toBeLessThan(floor);
  });

  it("the Ingress routes to the gateway Service port and is SSE-friendly", () => {
    const ing = one("Ingress", "portal-gateway");
    const annotations = obj(at(ing.raw, "metadata.annotations"), "annotations");
    expect(annotations["nginx.ingress.kubernetes.io/proxy-buffering"]).toBe("off");
    expect(
      Number(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]),
    ).toBeGreaterThanOrEqual(310);
    const rules = arr(at(ing.raw, "spec.rules"), "rules");
    for (const rule of rules) {
      for (const p of arr(at(rule, "http.paths"), "paths")) {
        expect(at(p, "pathType")).toMatch(/^(Prefix|Exact|ImplementationSpecific)$/);
        const svc = one("Service", String(at(p, "backend.service.name")));
        const portNames = arr(at(svc.raw, "spec.ports"), "ports").map((sp) => at(sp, "name"));
        expect(portNames).toContain(at(p, "backend.service.port.name"));
      }
    }
  });

  it("kustomization.yaml lists every manifest file", () => {
    const [kust] = parseYaml(path.join(k8sDir, "kustomization.yaml"));
    const resources = arr(at(kust, "resources"), "resources");
    expect([...resources].sort()).toEqual(k8sFiles.map((f) => path.basename(f)).sort());
  });
});

describe("compose.yml", () => {
  const [compose] = parseYaml(path.join(infra, "compose.yml"));
  const services = obj(at(compose, "services"), "services");
  const env = (name: string) => obj(at(services[name], "environment"), `${name} environment`);

  it("runs Postgres, Redis, two gateways behind nginx, two routers and their miners", () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        "gateway-1",
        "gateway-2",
        "miner-1",
        "miner-2",
        "nginx",
        "postgres",
        "redis",
        "router-1",
        "router-2",
      ].sort(),
    );
    for (const [name, svc] of Object.entries(services)) {
      const hasImage = typeof at(svc, "image") === "string";
      const hasBuild = at(svc, "build") !== undefined;
      expect(hasImage || hasBuild, `${name}: image or build`).toBe(true);
      const dockerfile = at(svc, "build.dockerfile");
      if (dockerfile !== undefined) {
        const context = path.resolve(infra, String(at(svc, "build.context")));
        expect(existsSync(path.join(context, String(dockerfile))), `${name}: ${dockerfile}`).toBe(
          true,
        );
      }
    }
  });

  it("wires the gateways to shared Postgres and Redis without embedded routers", () => {
    for (const gw of ["gateway-1", "gateway-2"]) {
      const e = env(gw);
      expect(String(e.DATABASE_URL)).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
      expect(String(e.REDIS_URL)).toMatch(/^redis:\/\/redis:6379/);
      expect(String(e.PORTAL_ENCRYPTION_KEY)).toContain("${PORTAL_ENCRYPTION_KEY:?");
      expect(String(e.PORTAL_SESSION_SECRET)).toContain("${PORTAL_SESSION_SECRET:?");
      expect(e).toMatchObject({ NODE_ENV: "production", HOST: "0.0.0.0", EMBEDDED_ROUTERS: "0" });
      expect(at(services[gw], "healthcheck.test")).toEqual(
        expect.arrayContaining([expect.stringContaining("/readyz")]),
      );
      // Compose's grace period must cover the gateway's drain bound.
      const grace = Number.parseInt(String(at(services[gw], "stop_grace_period")), 10);
      expect(grace * 1000).toBeGreaterThan(Number(e.SHUTDOWN_TIMEOUT_MS));
    }
    // Only one replica bootstraps: the second waits for the first to be ready.
    expect(at(services["gateway-2"], "depends_on.gateway-1.condition")).toBe("service_healthy");
  });

  it("routers bind all interfaces with real secrets, and each miner dials a router in the file", () => {
    for (const r of ["router-1", "router-2"]) {
      const e = env(r);
      expect(e.ROUTER_HOST).toBe("0.0.0.0");
      expect(String(e.ROUTER_API_KEY)).toContain("${ROUTER_API_KEY:?");
      expect(String(e.ROUTER_MINER_TOKEN)).toContain("${ROUTER_MINER_TOKEN:?");
    }
    for (const [m, router] of [
      ["miner-1", "router-1"],
      ["miner-2", "router-2"],
    ] as const) {
      expect(env(m).MINER_ROUTER_URL).toBe(`ws://${router}:5010/ws/miners`);
      expect(String(env(m).MINER_TOKEN)).toContain("${ROUTER_MINER_TOKEN");
    }
  });

  it("nginx mounts infra/nginx/portal.conf, whose upstreams are the compose gateways", () => {
    const volumes = arr(at(services.nginx, "volumes"), "nginx volumes").map(String);
    expect(volumes).toContain("./nginx/portal.conf:/etc/nginx/conf.d/default.conf:ro");
    const conf = readFileSync(path.join(infra, "nginx", "portal.conf"), "utf8");
    const upstreams = [...conf.matchAll(/^\s*server\s+([\w.-]+):(\d+)/gm)].map((m) => m[1]);
    expect(upstreams.sort()).toEqual(["gateway-1", "gateway-2"]);
    expect(arr(at(services.nginx, "ports"), "ports").map(String)).toEqual(["127.0.0.1:8080:80"]);
  });

  it("compose.dev.yml still runs Postgres and Redis only", () => {
    const [dev] = parseYaml(path.join(infra, "compose.dev.yml"));
    expect(Object.keys(obj(at(dev, "services"), "dev services")).sort()).toEqual([
      "postgres",
      "redis",
    ]);
  });
});

describe("nginx/portal.conf", () => {
  const conf = readFileSync(path.join(infra, "nginx", "portal.conf"), "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*$/, ""))
    .join("\n");
  const directive = (name: string) =>
    [...conf.matchAll(new RegExp(`^\\s*${name}\\s+([^;]+);`, "gm"))].map((m) => m[1]?.trim());
  const seconds = (v: string | undefined) => {
    const m = /^(\d+)(s|m)?$/.exec(v ?? "");
    if (!m) throw new Error(`not a duration: ${v}`);
    return Number(m[1]) * (m[2] === "m" ? 60 : 1);
  };

  it("is SSE-safe: no buffering, HTTP/1.1 keep-alive upstream, long read timeout", () => {
    expect(directive("proxy_buffering")).toEqual(["off"]);
    expect(directive("proxy_http_version")).toEqual(["1.1"]);
    expect(directive("proxy_set_header Connection")).toEqual(['""']);
    expect(directive("keepalive").length).toBe(1);
    // Longest allowed request: timeout 180 s + precommit_timeout 120 s + UPSTREAM_MARGIN_MS 10 s.
    expect(seconds(directive("proxy_read_timeout")[0])).toBeGreaterThanOrEqual(310);
    expect(seconds(directive("proxy_send_timeout")[0])).toBeGreaterThanOrEqual(310);
    // Upstream keep-alive must end before Node's 5 s keepAliveTimeout to avoid reset races.
    expect(seconds(directive("keepalive_timeout")[0])).toBeLessThan(5);
  });

  it("balances braces and ends every directive line with a semicolon", () => {
    expect(conf.split("{").length).toBe(conf.split("}").length);
    for (const line of conf.split("\n").map((l) => l.trim())) {
      if (line === "" || line.endsWith("{") || line === "}") continue;
      expect(line, "unterminated directive").toMatch(/;$/);
    }
  });
});

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions grouped by stage (line continuations joined, comments dropped). */
function dockerStages(file: string): Instruction[][] {
  const joined = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n")
    .replace(/\\\n/g, " ");
  const stages: Instruction[][] = [];
  for (const line of joined.split("\n")) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m?.[1]) continue;
    const ins = { op: m[1].toUpperCase(), args: (m[2] ?? "").trim() };
    if (ins.op === "FROM") stages.push([]);
    if (ins.op === "ARG" && stages.length === 0) continue; // global ARG before the first FROM
    const current = stages.at(-1);
    if (!current) throw new Error(`${file}: ${ins.op} before FROM`);
    current.push(ins);
  }
  return stages;
}

describe("Dockerfiles", () => {
  const images = [
    { app: "gateway", port: "8080", probe: "/livez" },
    { app: "router", port: "5010", probe: "/livez" },
    { app: "miner", port: undefined, probe: undefined },
  ];

  it.each(images)(
    "$app: multi-stage node:20 slim, non-root USER, CMD of the built bundle",
    (img) => {
      const file = path.join(infra, "docker", `${img.app}.Dockerfile`);
      const stages = dockerStages(file);
      expect(stages.length).toBeGreaterThanOrEqual(2);
      for (const stage of stages) {
        expect(stage[0]?.args).toMatch(/^node:\$\{NODE_VERSION\}-bookworm-slim( AS [\w-]+)?$/);
      }
      expect(readFileSync(file, "utf8")).toMatch(/^ARG NODE_VERSION=20$/m);
      const final = stages.at(-1) ?? [];
      const users = final.filter((i) => i.op === "USER").map((i) => i.args);
      expect(users.length, "final stage needs a USER").toBeGreaterThan(0);
      expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
      const cmd = final.filter((i) => i.op === "CMD" || i.op === "ENTRYPOINT").at(-1);
      expect(cmd, "final stage needs CMD or ENTRYPOINT").toBeDefined();
      // The bundle the CMD runs is the one scripts/build.mjs writes.
      expect(JSON.parse(cmd?.args ?? "[]")).toEqual(["node", `apps/${img.app}/dist/main.mjs`]);
      const all = stages.flat();
      expect(all.some((i) => i.op === "RUN" && i.args.includes("npm ci"))).toBe(true);
      expect(
        all.some((i) => i.op === "RUN" && i.args.includes(`scripts/build.mjs ${img.app}`)),
      ).toBe(true);
      const healthcheck = final.find((i) => i.op === "HEALTHCHECK");
      expect(healthcheck, "HEALTHCHECK (or an explicit NONE)").toBeDefined();
      if (img.port) {
        expect(final.find((i) => i.op === "EXPOSE")?.args).toBe(img.port);
        expect(healthcheck?.args).toContain(img.probe);
      } else {
        expect(healthcheck?.args).toBe("NONE");
      }
      expect(existsSync(path.join(repoRoot, "scripts", "build.mjs"))).toBe(true);
    },
  );

  it("the build context ignores dependencies, local data and build output", () => {
    const ignore = readFileSync(path.join(repoRoot, ".dockerignore"), "utf8").split("\n");
    expect(ignore).toEqual(expect.arrayContaining(["**/node_modules", ".data", "**/dist", ".git"]));
  });
});
