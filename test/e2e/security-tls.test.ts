/**
 * `skiff server` secure (the default; these suites also pass `--secure`, and
 * run so under SKIFF_E2E_INSECURE=1) (issue 10): TLS 1.2+ with the generated PKI, the
 * kernel-written kubeconfig (CA + admin client certificate) for kubectl,
 * anonymous 401s, static tokens, ServiceAccount tokens from `kubectl create
 * token`, client certificates signed by the cluster CA, agents joining with
 * a K10 join token (and refusing a server whose CA does not match before
 * sending anything), revocation, and certificate rotation without a restart.
 * Node and Deno serve TLS too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { connect as tlsConnect } from "node:tls";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { createKernel, type Kernel } from "../../core/kernel.ts";
import { DAY_MS } from "../../core/server/pki/cluster-pki.ts";
import { createCa, issue, loadSigner, parseCert } from "../../core/server/pki/x509.ts";
import { haveKubectl, ROOT, type Runtime, skiff, startServer, tempDir, type TestServer, until } from "./harness.ts";
import { describeWith } from "./require.ts";

const MAIN = join(ROOT, "core", "cli", "main.ts");
const json = (s: string) => JSON.parse(s);

/** A fetch trusting `ca` (Bun's per-request TLS options), optionally with a client certificate. */
function tlsFetch(url: string, o: { ca: string; cert?: string; key?: string; headers?: Record<string, string>; method?: string; body?: string }): Promise<Response> {
  return fetch(url, { method: o.method ?? "GET", headers: o.headers ?? {}, ...(o.body ? { body: o.body } : {}), tls: { ca: o.ca, ...(o.cert ? { cert: o.cert, key: o.key } : {}) } } as RequestInit);
}

/** A kubeconfig for `server` with the CA and either a bearer token or a client certificate. */
function writeKubeconfig(file: string, server: string, ca: string, user: { token?: string; cert?: string; key?: string }): string {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const u = user.token ? { token: user.token } : { "client-certificate-data": b64(user.cert!), "client-key-data": b64(user.key!) };
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server, "certificate-authority-data": b64(ca) } }],
      contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
      "current-context": "c",
      users: [{ name: "u", user: u }],
    }),
  );
  return file;
}

/** The certificate the server at host:port presents (serial, PEM). */
function servedCert(port: number, ca: string): Promise<{ serial: string; notAfter: string }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
      const c = s.getPeerCertificate();
      s.end();
      resolve({ serial: c.serialNumber, notAfter: c.valid_to });
    });
    s.on("error", reject);
  });
}

/** Whether a TLS 1.1 handshake succeeds (openssl when installed, else node:tls). */
async function tls11Accepted(port: number): Promise<{ accepted: boolean; via: string }> {
  if (spawnSync("which", ["openssl"]).status === 0) {
    // SECLEVEL=0: the client side must be willing to speak TLS 1.1 (Debian's default config refuses to).
    // Not spawnSync: the server may live in this process (the probe's own check below).
    const p = spawn("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], { stdio: ["pipe", "pipe", "pipe"] });
    let text = "";
    p.stdout!.on("data", (d: Buffer) => (text += d.toString()));
    p.stderr!.on("data", (d: Buffer) => (text += d.toString()));
    p.stdin!.end();
    const t = setTimeout(() => p.kill("SIGKILL"), 10_000);
    await new Promise((r) => p.once("exit", r));
    clearTimeout(t);
    // A completed handshake names its cipher and protocol; a refused one prints "Cipher is (NONE)".
    return { accepted: /Cipher is (?!\(NONE\))/.test(text) && /Protocol\s*:\s*TLSv1\.1/.test(text), via: "openssl" };
  }
  return new Promise((resolve) => {
    const s = tlsConnect({ host: "127.0.0.1", port, minVersion: "TLSv1", maxVersion: "TLSv1.1", rejectUnauthorized: false }, () => {
      s.end();
      resolve({ accepted: true, via: "node:tls" });
    });
    s.on("error", () => resolve({ accepted: false, via: "node:tls" }));
  });
}

interface Agent {
  proc: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function startAgent(server: string, token: string, node: string, dataDir: string): Agent {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, "skiff.yaml"), JSON.stringify({ plugins: { "node-agent": { config: { server: { port: 0 } } } } }));
  const proc = spawn(process.execPath, [MAIN, "agent", "--server", server, "--token", token, "--node-name", node, "--data-dir", dataDir, "--runtime", "fake", "--disable", "network-proxy"], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, SKIFF_LOG_LEVEL: "info" },
  });
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  return { proc, out: () => err, exited };
}

async function stopAgent(a: Agent): Promise<void> {
  if (a.proc.exitCode === null && a.proc.signalCode === null) {
    a.proc.kill("SIGTERM");
    const t = setTimeout(() => a.proc.kill("SIGKILL"), 5000);
    await a.exited;
    clearTimeout(t);
  }
}

describeWith("skiff server --secure (bun)", haveKubectl(), "kubectl", () => {
  let s: TestServer;
  let dir: string;
  let ca: string;
  const agents: Agent[] = [];

  beforeAll(async () => {
    dir = tempDir("skiff-e2e-secure-");
    mkdirSync(join(dir, "data"), { recursive: true });
    writeFileSync(join(dir, "tokens.csv"), 'alice-secret-token,alice,1001,"devs,ops"\n');
    s = await startServer("bun", ["--secure", "--preset", "server", "--disable", "scheduler", "--token-auth-file", join(dir, "tokens.csv")], { dir });
    ca = readFileSync(join(dir, "data", "tls", "ca.crt"), "utf8");
    // Requests are authorized (RBAC): the group "devs" may read.
    s.k(["create", "clusterrolebinding", "e2e-devs-view", "--clusterrole=view", "--group=devs"]);
  }, 60_000);

  afterAll(async () => {
    for (const a of agents) await stopAgent(a);
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the kubeconfig carries the CA and the admin client certificate; the PKI files are 0600", () => {
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const kc = parseYaml(readFileSync(s.kubeconfig, "utf8"));
    expect(kc.clusters[0].cluster.server).toBe(s.url);
    expect(Buffer.from(kc.clusters[0].cluster["certificate-authority-data"], "base64").toString()).toBe(ca);
    const admin = parseCert(Buffer.from(kc.users[0].user["client-certificate-data"], "base64").toString());
    expect(admin.subject).toBe("CN=skiff-admin, O=system:masters");
    expect(kc.users[0].user["client-key-data"]).toBeString();
    for (const f of ["ca.key", "serving.key", "admin.key", "sa.key", "ca.crt", "serving.crt"]) expect(statSync(join(dir, "data", "tls", f)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "data", "token")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "data", "token"), "utf8")).toMatch(/^K10[0-9a-f]{64}::[a-z0-9]{6}\.[a-z0-9]{16}\n$/);
  });

  test("kubectl over TLS with the generated kubeconfig: get, create, apply", () => {
    expect(s.k(["get", "namespaces"])).toContain("kube-system");
    expect(s.k(["create", "configmap", "tls-cm", "--from-literal=a=b"])).toContain("configmap/tls-cm created");
    const manifest = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "applied", namespace: "default" }, data: { x: "1" } });
    expect(s.k(["apply", "-f", "-"], { input: manifest })).toContain("configmap/applied created");
    expect(json(s.k(["get", "configmap", "applied", "-o", "json"])).data).toEqual({ x: "1" });
  });

  test("anonymous requests: 401 Status for the API, 200 for health and version; no plain HTTP", async () => {
    const pods = await tlsFetch(`${s.url}/api/v1/pods`, { ca });
    expect(pods.status).toBe(401);
    expect(await pods.json()).toEqual({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 });
    for (const p of ["/healthz", "/livez", "/readyz", "/version"]) expect((await tlsFetch(`${s.url}${p}`, { ca })).status).toBe(200);
    expect(json(await (await tlsFetch(`${s.url}/version`, { ca })).text()).gitVersion).toStartWith("v1.32");
    await expect(fetch(s.url.replace("https:", "http:") + "/healthz")).rejects.toThrow();
  });

  test("TLS 1.1 is refused, TLS 1.2 accepted", async () => {
    // The probe itself can see a TLS 1.1 handshake succeed: a server that allows it.
    const srv = await issue(await loadSigner({ cert: ca, key: readFileSync(join(dir, "data", "tls", "ca.key"), "utf8") }), {
      commonName: "old",
      ipAddresses: ["127.0.0.1"],
      usages: ["server"],
      validityMs: DAY_MS,
    });
    const { createServer } = await import("node:tls");
    const old = createServer({ cert: srv.cert, key: srv.key, minVersion: "TLSv1" }, (c) => c.end());
    await new Promise<void>((r) => old.listen(0, "127.0.0.1", () => r()));
    try {
      expect(await tls11Accepted((old.address() as { port: number }).port)).toMatchObject({ accepted: true });
    } finally {
      old.close();
    }
    const port = Number(new URL(s.url).port);
    const r = await tls11Accepted(port);
    expect(r.accepted).toBe(false);
    const v12 = await new Promise<string>((resolve, reject) => {
      const c = tlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost", minVersion: "TLSv1.2", maxVersion: "TLSv1.2" }, () => {
        resolve(c.getProtocol() ?? "");
        c.end();
      });
      c.on("error", reject);
    });
    expect(v12).toBe("TLSv1.2");
  });

  test("a static token user from --token-auth-file (authorized by RBAC through its groups)", async () => {
    const good = writeKubeconfig(join(dir, "alice.json"), s.url, ca, { token: "alice-secret-token" });
    await until("alice may read configmaps", () => s.kubectl(["--kubeconfig", good, "get", "configmap", "tls-cm", "-o", "name"]).out === "configmap/tls-cm\n");
    const denied = s.kubectl(["--kubeconfig", good, "create", "configmap", "by-alice"]);
    expect(denied.code).not.toBe(0);
    expect(denied.err).toContain('User "alice" cannot create resource "configmaps" in API group "" in the namespace "default"');
    const bad = writeKubeconfig(join(dir, "mallory.json"), s.url, ca, { token: "alice-secret-tokeN" });
    const r = s.kubectl(["--kubeconfig", bad, "get", "configmaps"]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("Unauthorized");
  });

  test("kubectl create token: the ServiceAccount token works until the ServiceAccount is deleted", async () => {
    // Its own ServiceAccount (the `default` one may be kept by a ServiceAccount controller, which recreates it when deleted).
    s.k(["create", "serviceaccount", "tls-sa"]);
    const token = s.k(["create", "token", "tls-sa"]).trim();
    const claims = json(Buffer.from(token.split(".")[1]!, "base64url").toString());
    expect(claims.sub).toBe("system:serviceaccount:default:tls-sa");
    expect(claims["kubernetes.io"].serviceaccount.name).toBe("tls-sa");
    const cfg = writeKubeconfig(join(dir, "sa.json"), s.url, ca, { token });
    // Authenticated, not yet authorized: 403 with upstream's message.
    const forbidden = s.kubectl(["--kubeconfig", cfg, "get", "configmaps"]);
    expect(forbidden.err).toContain('User "system:serviceaccount:default:tls-sa" cannot list resource "configmaps" in API group "" in the namespace "default"');
    s.k(["create", "rolebinding", "sa-view", "--clusterrole=view", "--serviceaccount=default:tls-sa"]);
    await until("the ServiceAccount may read configmaps", () => s.kubectl(["--kubeconfig", cfg, "get", "configmap", "tls-cm", "-o", "name"]).out === "configmap/tls-cm\n");
    // --token on the command line, as users pass it.
    const viaFlag = writeKubeconfig(join(dir, "ca-only.json"), s.url, ca, { token: "placeholder-not-a-token" });
    expect(s.kubectl(["--kubeconfig", viaFlag, "--token", token, "get", "configmaps", "-o", "name"]).code).toBe(0);
    s.k(["delete", "serviceaccount", "tls-sa"]);
    const after = s.kubectl(["--kubeconfig", cfg, "get", "configmaps"]);
    expect(after.code).not.toBe(0);
    expect(after.err).toContain("Unauthorized");
  });

  test("an X.509 user with a client certificate signed by the cluster CA; another CA's is refused", async () => {
    const signer = await loadSigner({ cert: ca, key: readFileSync(join(dir, "data", "tls", "ca.key"), "utf8") });
    const dave = await issue(signer, { commonName: "dave", organizations: ["devs"], usages: ["client"], validityMs: DAY_MS });
    const cfg = writeKubeconfig(join(dir, "dave.json"), s.url, ca, { cert: dave.cert, key: dave.key! });
    await until("dave (group devs) may read configmaps", () => s.kubectl(["--kubeconfig", cfg, "get", "configmap", "tls-cm", "-o", "name"]).out === "configmap/tls-cm\n");
    expect(s.kubectl(["--kubeconfig", cfg, "delete", "configmap", "tls-cm"]).err).toContain('User "dave" cannot delete resource "configmaps"');
    const rogue = await loadSigner(await createCa({ commonName: "skiff-ca", validityMs: DAY_MS }));
    const eve = await issue(rogue, { commonName: "skiff-admin", organizations: ["system:masters"], usages: ["client"], validityMs: DAY_MS });
    const res = await tlsFetch(`${s.url}/api/v1/namespaces`, { ca, cert: eve.cert, key: eve.key! });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toBe("Unauthorized: x509: certificate signed by unknown authority");
  });

  test("an agent joins with the server's token: CA pinned, node certificate issued, node registered", async () => {
    const token = readFileSync(join(dir, "data", "token"), "utf8").trim();
    const state = join(dir, "agent-a");
    const a = startAgent(s.url, token, "join-a", state);
    agents.push(a);
    await until("the agent to run", () => a.out().includes('"msg":"agent running"') || (a.proc.exitCode !== null && Promise.reject(new Error(a.out()))), 30_000);
    expect(a.out()).toContain('"msg":"joined with a node client certificate"');
    const cert = parseCert(readFileSync(join(state, "tls", "node.crt"), "utf8"));
    expect(cert.subject).toBe("CN=system:node:join-a, O=system:nodes");
    expect(statSync(join(state, "tls", "node.key")).mode & 0o777).toBe(0o600);
    await until("node join-a", () => s.kubectl(["get", "node", "join-a"]).code === 0, 30_000);
    // The bootstrap token alone gets a node nothing beyond its certificate's identity: a restart reuses the stored certificate.
    await stopAgent(a);
    const again = startAgent(s.url, token, "join-a", state);
    agents.push(again);
    await until("the agent to run again", () => again.out().includes('"msg":"agent running"') || (again.proc.exitCode !== null && Promise.reject(new Error(again.out()))), 30_000);
    expect(again.out()).toMatch(/"newCertificate":false/);
    await stopAgent(again);
  }, 90_000);

  test("a server whose CA does not match the token's hash gets no credentials; neither does a man in the middle", async () => {
    const realToken = readFileSync(join(dir, "data", "token"), "utf8").trim();
    const secret = realToken.split("::")[1]!;
    const rogueCa = await createCa({ commonName: "skiff-ca", validityMs: DAY_MS });
    const rogueSrv = await issue(await loadSigner(rogueCa), { commonName: "rogue", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], usages: ["server"], validityMs: DAY_MS });
    const seen: { method: string; path: string; auth?: string; body: string }[] = [];
    let cacerts = rogueCa.cert;
    const rogue = createHttpsServer({ cert: rogueSrv.cert, key: rogueSrv.key }, (req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        seen.push({ method: req.method ?? "", path: req.url ?? "", ...(req.headers.authorization ? { auth: req.headers.authorization } : {}), body });
        if (req.url === "/cacerts") res.end(cacerts);
        else res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => rogue.listen(0, "127.0.0.1", () => r()));
    const url = `https://127.0.0.1:${(rogue.address() as { port: number }).port}`;
    try {
      // 1. The rogue serves its own CA: the hash does not match, the agent stops.
      const a = startAgent(url, realToken, "rogue-a", join(dir, "agent-rogue-1"));
      agents.push(a);
      expect(await a.exited).toBe(1);
      expect(a.out()).toContain("does not match the join token's");
      // 2. The rogue relays the real CA but cannot present a certificate it signed: the pinned request fails.
      cacerts = ca;
      const b = startAgent(url, realToken, "rogue-b", join(dir, "agent-rogue-2"));
      agents.push(b);
      expect(await b.exited).toBe(1);
      expect(b.out()).toMatch(/cannot reach|self.signed|unknown|verify|certificate/i);
      expect(seen.map((x) => `${x.method} ${x.path}`)).toEqual(["GET /cacerts", "GET /cacerts"]);
      expect(seen.every((x) => x.auth === undefined && !x.body.includes(secret.split(".")[1]!))).toBe(true);
    } finally {
      rogue.close();
      rogue.closeAllConnections();
    }
  }, 60_000);

  test("skiff token create / list / delete: a deleted token is refused at once", async () => {
    const dataDir = join(dir, "data");
    const created = skiff(["token", "create", "--ttl", "1h", "--description", "e2e", "--data-dir", dataDir]);
    expect(created.code).toBe(0);
    const token = created.out.trim();
    expect(token).toStartWith(readFileSync(join(dataDir, "token"), "utf8").split("::")[0]!);
    const id = token.split("::")[1]!.split(".")[0]!;
    const listed = skiff(["token", "list", "--data-dir", dataDir]);
    expect(listed.out).toMatch(new RegExp(`^${id}\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:]+Z\\s+e2e$`, "m"));
    const bootstrap = token.split("::")[1]!;
    // Authenticated (a bootstrapper may not list namespaces: 403, not 401).
    expect((await tlsFetch(`${s.url}/api/v1/namespaces`, { ca, headers: { authorization: `Bearer ${bootstrap}` } })).status).toBe(403);

    expect(skiff(["token", "delete", id, "--data-dir", dataDir])).toMatchObject({ out: `deleted join token ${id}\n`, code: 0 });
    expect(skiff(["token", "list", "--data-dir", dataDir]).out).not.toContain(id);
    expect((await tlsFetch(`${s.url}/api/v1/namespaces`, { ca, headers: { authorization: `Bearer ${bootstrap}` } })).status).toBe(401);
    const a = startAgent(s.url, token, "revoked-a", join(dir, "agent-revoked"));
    agents.push(a);
    expect(await a.exited).toBe(1);
    expect(a.out()).toContain("skiff: the server refused the join token: Unauthorized");
    expect(skiff(["token", "delete", id, "--data-dir", dataDir])).toMatchObject({ err: `skiff: no join token with id ${id}\n`, code: 1 });
  }, 60_000);
});

describe("certificate rotation without a restart (in-process kernel)", () => {
  let kernel: Kernel;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir("skiff-rotate-");
    kernel = await createKernel({
      dataDir: join(dir, "data"),
      listen: { host: "127.0.0.1", port: 0 },
      audit: false,
      // notBefore is backdated a minute, so a 70 s lifetime leaves ~10 s: renewed ~2 s after each issue.
      security: { enabled: true, validity: { leafMs: 70_000, renewBeforeMs: 8_000 }, renewCheckMs: 300 },
    });
  }, 30_000);
  afterAll(async () => {
    await kernel?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the served certificate changes while a client keeps working", async () => {
    const pki = kernel.security!.pki;
    const port = kernel.listening!.port;
    const first = await servedCert(port, pki.ca);
    const admin = { ca: pki.ca, cert: pki.admin.cert, key: pki.admin.key };
    let ok = 0;
    const failures: string[] = [];
    let stop = false;
    const client = (async () => {
      while (!stop) {
        try {
          const r = await tlsFetch(`${kernel.url}/api/v1/namespaces/default/configmaps`, admin);
          if (r.status === 200) ok++;
          else failures.push(String(r.status));
          await r.arrayBuffer();
        } catch (e) {
          failures.push((e as Error).message);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const next = await until("a renewed serving certificate", async () => {
      const c = await servedCert(port, pki.ca);
      return c.serial !== first.serial ? c : undefined;
    }, 20_000, 200);
    const okAtRenewal = ok;
    await until("more requests after the renewal", () => ok > okAtRenewal + 5, 10_000, 100);
    stop = true;
    await client;
    expect(next.serial).not.toBe(first.serial);
    expect(failures).toEqual([]);
    // The kubeconfig follows the renewed admin certificate, still for skiff-admin.
    const kc = parseYaml(readFileSync(kernel.kubeconfigPath!, "utf8"));
    const adminNow = Buffer.from(kc.users[0].user["client-certificate-data"], "base64").toString();
    expect(adminNow).toBe(readFileSync(join(dir, "data", "tls", "admin.crt"), "utf8"));
    expect(parseCert(adminNow).subject).toBe("CN=skiff-admin, O=system:masters");
  }, 40_000);
});

for (const runtime of ["node", "deno"] as Runtime[]) {
  describeWith(`skiff server --secure on ${runtime}`, haveKubectl(), "kubectl", () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startServer(runtime, ["--secure", "--preset", "server", "--disable", "scheduler"]);
    }, 60_000);
    afterAll(async () => {
      await s?.stop();
    });
    test("serves TLS: kubectl with the kubeconfig works, anonymous is 401, TLS 1.1 refused", async () => {
      expect(s.url).toStartWith("https://");
      expect(s.k(["create", "configmap", "on-tls", "--from-literal=k=v"])).toContain("created");
      expect(s.k(["get", "configmap", "on-tls", "-o", "name"])).toBe("configmap/on-tls\n");
      const ca = readFileSync(join(s.dir, "data", "tls", "ca.crt"), "utf8");
      expect((await tlsFetch(`${s.url}/api/v1/pods`, { ca })).status).toBe(401);
      expect((await tlsFetch(`${s.url}/healthz`, { ca })).status).toBe(200);
      expect((await tls11Accepted(Number(new URL(s.url).port))).accepted).toBe(false);
    }, 60_000);
  });
}

describe("secure by default", () => {
  /** Starts a server with exactly `args` (no mode flag from SKIFF_E2E_SECURE / SKIFF_E2E_INSECURE). */
  async function startAsIs(args: string[]): Promise<TestServer> {
    const saved = { secure: process.env.SKIFF_E2E_SECURE, insecure: process.env.SKIFF_E2E_INSECURE };
    delete process.env.SKIFF_E2E_SECURE;
    delete process.env.SKIFF_E2E_INSECURE;
    try {
      return await startServer("bun", args);
    } finally {
      if (saved.secure !== undefined) process.env.SKIFF_E2E_SECURE = saved.secure;
      if (saved.insecure !== undefined) process.env.SKIFF_E2E_INSECURE = saved.insecure;
    }
  }

  test("skiff server without flags: HTTPS, anonymous 401, the admin kubeconfig and a join token", async () => {
    const s = await startAsIs(["--preset", "server", "--disable", "scheduler"]);
    try {
      expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(s.secure).toBe(true);
      expect((await s.fetch("/api/v1/namespaces", {}, { ca: s.adminTls!.ca })).status).toBe(401);
      expect((await s.fetch("/api/v1/namespaces")).status).toBe(200);
      expect(readFileSync(join(s.dir, "data", "token"), "utf8")).toStartWith("K10");
      expect(s.log()).not.toContain("SECURITY IS OFF");
      await expect(fetch(s.url.replace("https:", "http:") + "/api/v1/namespaces")).rejects.toThrow();
    } finally {
      await s.stop();
    }
  }, 60_000);

  test("--insecure: plain HTTP without authentication, with a loud warning", async () => {
    const s = await startAsIs(["--insecure", "--preset", "server", "--disable", "scheduler"]);
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(s.secure).toBe(false);
      expect((await fetch(`${s.url}/api/v1/namespaces`)).status).toBe(200);
      expect(s.log()).toContain("skiff server --insecure: plain HTTP, NO authentication, NO authorization");
      expect(s.log()).toContain("SECURITY IS OFF");
      expect(existsSync(join(s.dir, "data", "token"))).toBe(false);
    } finally {
      await s.stop();
    }
  }, 60_000);

  test("--secure and --insecure together are refused", () => {
    const dir = tempDir("skiff-both-");
    try {
      const r = skiff(["server", "--secure", "--insecure", "--memory", "--listen", "127.0.0.1:0", "--data-dir", join(dir, "data")]);
      expect(r.code).not.toBe(0);
      expect(r.err).toContain("--secure and --insecure contradict each other");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an embedded kernel: secure when it listens (memory PKI, kernel.clientTls), no security without a listener", async () => {
    const listening = await createKernel({ memory: true, listen: { host: "127.0.0.1", port: 0 } });
    try {
      expect(listening.url).toStartWith("https://");
      const tls = listening.clientTls!;
      expect(parseCert(tls.cert).subject).toBe("CN=skiff-admin, O=system:masters");
      expect((await tlsFetch(`${listening.url}/api/v1/namespaces`, { ca: tls.ca })).status).toBe(401);
      expect((await tlsFetch(`${listening.url}/api/v1/namespaces`, tls)).status).toBe(200);
      expect(listening.joinToken?.token).toStartWith("K10");
    } finally {
      await listening.stop();
    }
    const quiet = await createKernel({ memory: true });
    try {
      expect(quiet.security).toBeUndefined();
      expect(quiet.url).toBeUndefined();
      expect((await quiet.client.list({ group: "", version: "v1", resource: "namespaces", namespaced: false })).items.length).toBeGreaterThan(0);
    } finally {
      await quiet.stop();
    }
    const plain = await createKernel({ memory: true, listen: { host: "127.0.0.1", port: 0 }, security: { enabled: false } });
    try {
      expect(plain.url).toStartWith("http://");
      expect(plain.clientTls).toBeUndefined();
      expect((await fetch(`${plain.url}/api/v1/namespaces`)).status).toBe(200);
    } finally {
      await plain.stop();
    }
  }, 60_000);
});
