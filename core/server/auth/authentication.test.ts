import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../api/meta.ts";
import { ClusterPki, DAY_MS } from "../pki/cluster-pki.ts";
import { createCa, issue, loadSigner, pemBody } from "../pki/x509.ts";
import { RequestGate } from "./authentication.ts";
import { BootstrapTokenAuthenticator, bootstrapTokenSecret, formatJoinToken, parseJoinToken } from "./bootstrap-tokens.ts";
import { CONNECTION, setRequestConnection } from "./connection.ts";
import { ServiceAccountTokens } from "./service-accounts.ts";
import { parseTokenFile, TokenFileAuthenticator } from "./token-file.ts";
import { type Authorizer, requestUser, setRequestUser } from "./types.ts";
import { X509Authenticator } from "./x509-authenticator.ts";

const pki = await ClusterPki.open({ dnsNames: [], ipAddresses: [] });

const objects = new Map<string, KubeObject>();
const put = (resource: string, ns: string, name: string, uid: string, extra: Record<string, unknown> = {}) =>
  objects.set(`${resource}/${ns}/${name}`, { apiVersion: "v1", kind: "X", metadata: { name, namespace: ns, uid }, ...extra } as KubeObject);
const lookup = async (resource: string, ns: string, name: string) => objects.get(`${resource}/${ns}/${name}`);

const sa = new ServiceAccountTokens({ key: pki.serviceAccountKey, lookup });
const tokens = new TokenFileAuthenticator(parseTokenFile('alice-token,alice,uid-1,"devs,ops"\n# comment\n\nbob-token,bob,,\n'));
const bootstrap = new BootstrapTokenAuthenticator((ns, name) => lookup("secrets", ns, name));

function gate(authorizer?: Authorizer): RequestGate {
  return new RequestGate({ authenticators: [new X509Authenticator(() => pki.caCert), tokens, bootstrap, sa], ...(authorizer ? { authorizer } : {}) });
}

const req = (path: string, init: { token?: string; method?: string } = {}) =>
  new Request(`https://skiff.local${path}`, { method: init.method ?? "GET", headers: init.token ? { authorization: `Bearer ${init.token}` } : {} });

async function status(g: RequestGate, r: Request, env?: unknown): Promise<{ code: number; body?: { reason?: string; message?: string } }> {
  const res = await g.handle(r, env);
  if (!res) return { code: 0 };
  return { code: res.status, body: (await res.json()) as { reason?: string; message?: string } };
}

describe("RequestGate", () => {
  test("anonymous: 401 Status for API paths, through for health and version", async () => {
    const g = gate();
    const r = await status(g, req("/api/v1/pods"));
    expect(r).toEqual({ code: 401, body: expect.objectContaining({ kind: "Status", reason: "Unauthorized", message: "Unauthorized", code: 401 }) });
    expect((await status(g, req("/apis"))).code).toBe(401);
    for (const p of ["/healthz", "/livez", "/readyz", "/version"]) {
      const x = req(`${p}?verbose`);
      expect((await status(g, x)).code).toBe(0);
      expect(requestUser(x)?.user.name).toBe("system:anonymous");
    }
  });

  test("an in-process identity set before routing is trusted as is", async () => {
    const x = req("/api/v1/pods");
    setRequestUser(x, { user: { name: "system:skiff-kernel", groups: ["system:masters"] }, authenticator: "in-process" });
    expect((await status(gate(), x)).code).toBe(0);
  });

  test("static tokens from the token file: user, uid and groups", async () => {
    const x = req("/api/v1/pods", { token: "alice-token" });
    expect((await status(gate(), x)).code).toBe(0);
    expect(requestUser(x)).toEqual({ user: { name: "alice", uid: "uid-1", groups: ["devs", "ops", "system:authenticated"] }, authenticator: "token-file" });
    const b = req("/api/v1/pods", { token: "bob-token" });
    await gate().handle(b);
    expect(requestUser(b)?.user).toEqual({ name: "bob", groups: ["system:authenticated"] });
    expect((await status(gate(), req("/api/v1/pods", { token: "alice-tokeN" }))).code).toBe(401);
    expect(() => parseTokenFile("just-a-token\n", "tokens.csv")).toThrow("tokens.csv:1: expected token,user,uid");
  });

  test("client certificates signed by the cluster CA: CN user, O groups; others 401", async () => {
    const cert = await issue(pki.signer, { commonName: "carol", organizations: ["team-a", "team-b"], usages: ["client"], validityMs: DAY_MS });
    const x = req("/api/v1/pods");
    setRequestConnection(x, { peerCertificates: [pemBody(cert.cert)] });
    expect((await status(gate(), x)).code).toBe(0);
    expect(requestUser(x)).toEqual({ user: { name: "carol", groups: ["team-a", "team-b", "system:authenticated"] }, authenticator: "x509" });

    // The facts may come on the env instead (a wrapper handed on a new Request).
    const y = req("/api/v1/pods");
    expect((await status(gate(), y, { [CONNECTION]: { peerCertificates: [pemBody(cert.cert)] } })).code).toBe(0);
    expect(requestUser(y)?.user.name).toBe("carol");

    const rogue = await loadSigner(await createCa({ commonName: "skiff-ca", validityMs: DAY_MS }));
    const forged = await issue(rogue, { commonName: "skiff-admin", organizations: ["system:masters"], usages: ["client"], validityMs: DAY_MS });
    const z = req("/api/v1/pods");
    setRequestConnection(z, { peerCertificates: [pemBody(forged.cert)] });
    expect(await status(gate(), z)).toEqual({ code: 401, body: expect.objectContaining({ reason: "Unauthorized", message: "Unauthorized: x509: certificate signed by unknown authority" }) });
  });

  test("bootstrap tokens: valid, wrong secret, expired, revoked", async () => {
    const t = { id: "abcdef", secret: "0123456789abcdef" };
    objects.set("secrets/kube-system/bootstrap-token-abcdef", bootstrapTokenSecret({ ...t, expiration: new Date(Date.now() + 60_000) }));
    const x = req("/api/v1/nodes", { token: "abcdef.0123456789abcdef" });
    expect((await status(gate(), x)).code).toBe(0);
    expect(requestUser(x)?.user).toEqual({
      name: "system:bootstrap:abcdef",
      groups: ["system:bootstrappers", "system:bootstrappers:skiff:default-node-token", "system:authenticated"],
    });
    expect((await status(gate(), req("/api/v1/nodes", { token: "abcdef.0123456789abcdeX" }))).code).toBe(401);
    objects.set("secrets/kube-system/bootstrap-token-abcdef", bootstrapTokenSecret({ ...t, expiration: new Date(Date.now() - 1000) }));
    expect((await status(gate(), req("/api/v1/nodes", { token: "abcdef.0123456789abcdef" }))).code).toBe(401);
    objects.delete("secrets/kube-system/bootstrap-token-abcdef");
    expect((await status(gate(), req("/api/v1/nodes", { token: "abcdef.0123456789abcdef" }))).code).toBe(401);

    const jt = formatJoinToken(pki.caHash, t);
    expect(jt).toMatch(/^K10[0-9a-f]{64}::abcdef\.0123456789abcdef$/);
    expect(parseJoinToken(jt)).toEqual({ caHash: pki.caHash, ...t });
    expect(parseJoinToken("K10abc::abcdef.0123456789abcdef")).toBeUndefined();
  });

  test("ServiceAccount tokens: valid while the ServiceAccount (and bound pod) exist with the same uid", async () => {
    put("serviceaccounts", "ns1", "robot", "sa-uid-1");
    put("pods", "ns1", "p1", "pod-uid-1");
    const { token } = await sa.issue({ sa: objects.get("serviceaccounts/ns1/robot")!, expirationSeconds: 3600 });
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
    expect(claims).toMatchObject({
      iss: "https://kubernetes.default.svc.cluster.local",
      sub: "system:serviceaccount:ns1:robot",
      aud: ["https://kubernetes.default.svc.cluster.local"],
      "kubernetes.io": { namespace: "ns1", serviceaccount: { name: "robot", uid: "sa-uid-1" } },
    });
    expect(claims.exp - claims.iat).toBe(3600);
    const x = req("/api/v1/namespaces/ns1/pods", { token });
    expect((await status(gate(), x)).code).toBe(0);
    expect(requestUser(x)?.user).toMatchObject({
      name: "system:serviceaccount:ns1:robot",
      uid: "sa-uid-1",
      groups: ["system:serviceaccounts", "system:serviceaccounts:ns1", "system:authenticated"],
    });

    const bound = await sa.issue({ sa: objects.get("serviceaccounts/ns1/robot")!, pod: objects.get("pods/ns1/p1")!, expirationSeconds: 3600 });
    const y = req("/api/v1/namespaces/ns1/pods", { token: bound.token });
    expect((await status(gate(), y)).code).toBe(0);
    expect(requestUser(y)?.user.extra?.["authentication.kubernetes.io/pod-name"]).toEqual(["p1"]);
    // Being deleted: valid through the grace period and 60 s after its deadline (deletionTimestamp), then not.
    put("pods", "ns1", "p1", "pod-uid-1", { metadata: { name: "p1", namespace: "ns1", uid: "pod-uid-1", deletionTimestamp: new Date(Date.now() + 30_000).toISOString() } });
    expect((await status(gate(), req("/api/v1/namespaces/ns1/pods", { token: bound.token }))).code).toBe(0);
    put("pods", "ns1", "p1", "pod-uid-1", { metadata: { name: "p1", namespace: "ns1", uid: "pod-uid-1", deletionTimestamp: new Date(Date.now() - 50_000).toISOString() } });
    expect((await status(gate(), req("/api/v1/namespaces/ns1/pods", { token: bound.token }))).code).toBe(0);
    put("pods", "ns1", "p1", "pod-uid-1", { metadata: { name: "p1", namespace: "ns1", uid: "pod-uid-1", deletionTimestamp: new Date(Date.now() - 61_000).toISOString() } });
    expect((await status(gate(), req("/api/v1/namespaces/ns1/pods", { token: bound.token }))).code).toBe(401);
    objects.delete("pods/ns1/p1"); // gone
    expect((await status(gate(), req("/api/v1/namespaces/ns1/pods", { token: bound.token }))).code).toBe(401);
    put("pods", "ns1", "p1", "pod-uid-2"); // deleted and recreated: a new uid
    expect((await status(gate(), req("/api/v1/namespaces/ns1/pods", { token: bound.token }))).code).toBe(401);

    put("serviceaccounts", "ns1", "robot", "sa-uid-2");
    expect((await status(gate(), req("/api/v1/namespaces/ns1/pods", { token }))).code).toBe(401);
    objects.delete("serviceaccounts/ns1/robot");
    expect((await status(gate(), req("/api/v1/namespaces/ns1/pods", { token }))).code).toBe(401);

    // Another audience, or a token signed by another key: not ours.
    put("serviceaccounts", "ns1", "robot", "sa-uid-3");
    const vault = await sa.issue({ sa: objects.get("serviceaccounts/ns1/robot")!, audiences: ["vault"], expirationSeconds: 3600 });
    expect((await status(gate(), req("/api/v1/pods", { token: vault.token }))).code).toBe(401);
    const other = await ClusterPki.open({ dnsNames: [], ipAddresses: [] });
    const foreign = await new ServiceAccountTokens({ key: other.serviceAccountKey, lookup }).issue({ sa: objects.get("serviceaccounts/ns1/robot")!, expirationSeconds: 3600 });
    expect((await status(gate(), req("/api/v1/pods", { token: foreign.token }))).code).toBe(401);
    // Expired.
    const old = new ServiceAccountTokens({ key: pki.serviceAccountKey, lookup, now: () => new Date(Date.now() - 7200_000) });
    const stale = await old.issue({ sa: objects.get("serviceaccounts/ns1/robot")!, expirationSeconds: 3600 });
    expect((await status(gate(), req("/api/v1/pods", { token: stale.token }))).code).toBe(401);
  });

  test("the authorizer runs after authentication: deny and no-opinion are 403 with upstream's message", async () => {
    const seen: string[] = [];
    const authz: Authorizer = {
      name: "test",
      authorize(user, a) {
        seen.push(`${user.name} ${a.verb} ${a.resource} ${a.namespace}`);
        return user.name === "alice" ? { decision: "allow", reason: "" } : { decision: "no-opinion", reason: "" };
      },
    };
    const g = gate(authz);
    expect((await status(g, req("/api/v1/namespaces/default/pods", { token: "alice-token" }))).code).toBe(0);
    expect(await status(g, req("/api/v1/namespaces/default/pods", { token: "bob-token" }))).toEqual({
      code: 403,
      body: expect.objectContaining({ reason: "Forbidden", code: 403, message: 'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"' }),
    });
    expect((await status(g, req("/apis/apps/v1/deployments/x", { token: "bob-token", method: "DELETE" }))).body?.message).toBe(
      'deployments.apps "x" is forbidden: User "bob" cannot delete resource "deployments" in API group "apps" at the cluster scope',
    );
    // Health and version are not authorized.
    expect((await status(g, req("/healthz", { token: "bob-token" }))).code).toBe(0);
    expect(seen).toEqual(["alice list pods default", "bob list pods default", "bob delete deployments "]);
  });
});
