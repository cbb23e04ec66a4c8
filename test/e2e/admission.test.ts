/**
 * The admission plugins end to end, with real kubectl against a `skiff
 * server --preset server` (no scheduler: pods stay Pending, which is all
 * admission needs): default ServiceAccounts and the token volume, a
 * LimitRange default, a ResourceQuota refusal, PodSecurity enforce and warn,
 * and a third-party admission plugin installed with `skiff plugins add`.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { haveKubectl, ROOT, skiff, startServer, tempDir, type TestServer, until } from "./harness.ts";
import { describeWith } from "./require.ts";

setDefaultTimeout(120_000);

const REQUIRE_LABEL = join(ROOT, "examples", "plugins", "require-label");

describeWith("admission plugins (kubectl)", haveKubectl(), "kubectl", () => {
  let dir: string;
  let s: TestServer;

  beforeAll(async () => {
    dir = tempDir("skiff-admission-");
    const add = skiff(["plugins", "add", REQUIRE_LABEL, "--data-dir", join(dir, "data")]);
    if (add.code !== 0) throw new Error(`plugins add failed: ${add.err}`);
    s = await startServer("bun", ["--preset", "server", "--disable", "scheduler"], { dir });
  });
  afterAll(async () => {
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const pod = (name: string, ns: string, spec: Record<string, unknown> = {}, labels: Record<string, string> = {}) =>
    JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns, labels }, spec: { containers: [{ name: "c", image: "busybox" }], ...spec } });

  test("a new namespace gets the default ServiceAccount and kube-root-ca.crt; a pod gets its ServiceAccount and token volume", async () => {
    s.k(["create", "namespace", "sa-test"]);
    await until("the default ServiceAccount", () => s.kubectl(["get", "serviceaccount", "default", "-n", "sa-test"]).code === 0);
    await until("the root CA ConfigMap", () => s.kubectl(["get", "configmap", "kube-root-ca.crt", "-n", "sa-test"]).code === 0);
    // The cluster CA with TLS; without it there is none, and the ConfigMap is published empty.
    const ca = s.k(["get", "configmap", "kube-root-ca.crt", "-n", "sa-test", "-o", "jsonpath={.data.ca\\.crt}"]);
    if (s.url.startsWith("https:")) expect(ca).toContain("-----BEGIN CERTIFICATE-----");
    else expect(ca).toBe("");
    s.k(["run", "p", "--image=busybox", "-n", "sa-test"]);
    const p = JSON.parse(s.k(["get", "pod", "p", "-n", "sa-test", "-o", "json"])) as {
      spec: { serviceAccountName: string; volumes: { name: string; projected?: { sources: Record<string, unknown>[] } }[]; containers: { volumeMounts: { name: string; mountPath: string; readOnly: boolean }[] }[] };
    };
    expect(p.spec.serviceAccountName).toBe("default");
    const vol = p.spec.volumes.find((v) => v.name.startsWith("kube-api-access-"))!;
    expect(vol.projected?.sources[0]).toEqual({ serviceAccountToken: { expirationSeconds: 3607, path: "token" } });
    expect(p.spec.containers[0]!.volumeMounts).toContainEqual({ name: vol.name, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true });
    const missing = s.kubectl(["run", "q", "--image=busybox", "-n", "sa-test", "--overrides", JSON.stringify({ spec: { serviceAccountName: "robot" } })]);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain('Error from server (Forbidden): pods "q" is forbidden: error looking up service account sa-test/robot: serviceaccount "robot" not found');
  });

  test("a LimitRange's defaults are applied to a pod's containers", async () => {
    s.k(["create", "namespace", "lr-test"]);
    s.k(["apply", "-f", "-"], {
      input: JSON.stringify({ apiVersion: "v1", kind: "LimitRange", metadata: { name: "defaults", namespace: "lr-test" }, spec: { limits: [{ type: "Container", default: { cpu: "200m", memory: "128Mi" }, defaultRequest: { cpu: "50m" }, max: { cpu: "1" } }] } }),
    });
    await until("the default ServiceAccount", () => s.kubectl(["get", "serviceaccount", "default", "-n", "lr-test"]).code === 0);
    s.k(["apply", "-f", "-"], { input: pod("limited", "lr-test") });
    expect(s.k(["get", "pod", "limited", "-n", "lr-test", "-o", "jsonpath={.spec.containers[0].resources}"])).toBe('{"limits":{"cpu":"200m","memory":"128Mi"},"requests":{"cpu":"50m","memory":"128Mi"}}');
    const big = s.kubectl(["apply", "-f", "-"], { input: pod("big", "lr-test", { containers: [{ name: "c", image: "busybox", resources: { limits: { cpu: "2" } } }] }) });
    expect(big.code).not.toBe(0);
    expect(big.err).toContain('pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
  });

  test("a ResourceQuota refuses the pod over its limit with upstream's message", async () => {
    s.k(["create", "namespace", "quota-test"]);
    s.k(["create", "quota", "q", "--hard=pods=1", "-n", "quota-test"]);
    await until("the quota's usage", () => s.kubectl(["get", "quota", "q", "-n", "quota-test", "-o", "jsonpath={.status.used.pods}"]).out === "0");
    await until("the default ServiceAccount", () => s.kubectl(["get", "serviceaccount", "default", "-n", "quota-test"]).code === 0);
    s.k(["run", "a", "--image=busybox", "-n", "quota-test"]);
    const r = s.kubectl(["run", "b", "--image=busybox", "-n", "quota-test"]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('Error from server (Forbidden): pods "b" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1');
    expect(s.k(["get", "quota", "q", "-n", "quota-test"])).toMatch(/q\s+\S+\s+pods: 1\/1/);
  });

  test("a restricted namespace refuses a privileged pod; warn prints kubectl warnings", async () => {
    s.k(["create", "namespace", "pss-enforce"]);
    s.k(["label", "namespace", "pss-enforce", "pod-security.kubernetes.io/enforce=restricted"]);
    await until("the default ServiceAccount", () => s.kubectl(["get", "serviceaccount", "default", "-n", "pss-enforce"]).code === 0);
    const r = s.kubectl(["apply", "-f", "-"], { input: pod("priv", "pss-enforce", { containers: [{ name: "c", image: "busybox", securityContext: { privileged: true } }] }) });
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('pods "priv" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true), allowPrivilegeEscalation != false');

    s.k(["create", "namespace", "pss-warn"]);
    s.k(["label", "namespace", "pss-warn", "pod-security.kubernetes.io/warn=restricted"]);
    await until("the default ServiceAccount", () => s.kubectl(["get", "serviceaccount", "default", "-n", "pss-warn"]).code === 0);
    const w = s.kubectl(["run", "plain", "--image=busybox", "-n", "pss-warn"]);
    expect(w.code).toBe(0);
    expect(w.err).toContain('Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "plain" must set securityContext.allowPrivilegeEscalation=false)');
    // Tightening enforce over existing pods warns about them.
    const l = s.kubectl(["label", "namespace", "pss-warn", "pod-security.kubernetes.io/enforce=baseline"]);
    expect(l.code).toBe(0);
    const t = s.kubectl(["label", "--overwrite", "namespace", "pss-warn", "pod-security.kubernetes.io/enforce=restricted"]);
    expect(t.err).toContain('Warning: existing pods in namespace "pss-warn" violate the new PodSecurity enforce level "restricted:latest"');
  });

  test("a third-party admission plugin installed with skiff plugins add enforces its rule", async () => {
    s.k(["create", "namespace", "labelled"]);
    s.k(["label", "namespace", "labelled", "require-label.example.skiff.dev/enforce=true"]);
    await until("the default ServiceAccount", () => s.kubectl(["get", "serviceaccount", "default", "-n", "labelled"]).code === 0);
    const r = s.kubectl(["run", "nolabel", "--image=busybox", "-n", "labelled"]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('Error from server (Forbidden): pods "nolabel" is forbidden: missing required label "team"');
    s.k(["run", "withlabel", "--image=busybox", "-n", "labelled", "--labels=team=blue"]);
    // Namespaces that did not opt in are not affected.
    await until("the default ServiceAccount", () => s.kubectl(["get", "serviceaccount", "default", "-n", "default"]).code === 0);
    s.k(["run", "elsewhere", "--image=busybox", "-n", "default"]);
  });
});

describeWith("the ServiceAccount volume in a running pod (all-in-one, process runtime)", haveKubectl(), "kubectl", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer("bun", []);
  });
  afterAll(async () => {
    await s?.stop();
  });

  test("the container sees its namespace and the root CA file at the token path", async () => {
    s.k(["create", "namespace", "vol-test"]);
    await until("the default ServiceAccount", () => s.kubectl(["get", "serviceaccount", "default", "-n", "vol-test"]).code === 0);
    s.k(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "reader", namespace: "vol-test" },
        spec: { containers: [{ name: "c", image: "local/sh", command: ["sh", "-c", "d=/var/run/secrets/kubernetes.io/serviceaccount; echo ns=$(cat $d/namespace); test -f $d/ca.crt && echo ca=present; exec sleep 3600"] }] },
      }),
    });
    const logs = await until(
      "the pod's output",
      () => {
        const out = s.kubectl(["logs", "reader", "-n", "vol-test"]).out;
        return out.includes("ca=") ? out : undefined;
      },
      60_000,
    );
    expect(logs).toContain("ns=vol-test");
    expect(logs).toContain("ca=present");
  });
});
