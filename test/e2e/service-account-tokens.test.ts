/**
 * Projected ServiceAccount tokens end to end (issue 10): a real secure
 * all-in-one `skiff server` on the process runtime. A pod running as a
 * ServiceAccount reads the token and `ca.crt` the node agent wrote into
 * `/var/run/secrets/kubernetes.io/serviceaccount` (through `kubectl exec`,
 * so in the container's own mount namespace); kubectl with that token and CA
 * may do what a RoleBinding grants the ServiceAccount, gets 403 for the
 * rest, and 401 once the pod is deleted (the token is bound to the pod).
 *
 * Needs root (the process runtime's pod namespaces and mounts) and kubectl.
 * Everything started is removed in afterAll, also when a test fails.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeLeftovers, testRuntimeNames } from "../../runtime-adapters/process/testing.ts";
import { haveKubectl, startServer, tempDir, type TestServer, until } from "./harness.ts";
import { describeWith } from "./require.ts";

setDefaultTimeout(90_000);

const root = process.getuid?.() === 0;
// Its own prefix and subnet (services.test.ts has sks and 10.216).
const { tag, names } = testRuntimeNames("skj", 222);
const NODE = `sat-${tag}`;
const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

describeWith("ServiceAccount tokens projected by the node agent (process runtime)", haveKubectl() && root, "kubectl and root (pod namespaces and mounts)", () => {
  let s: TestServer;
  let dir: string;
  let token = "";
  let caFile = "";
  let emptyKubeconfig = "";

  /** kubectl as the pod's ServiceAccount: only the token and the CA, no kubeconfig credentials. */
  const asPod = (args: string[]) =>
    s.kubectl(["--server", s.url, "--token", token, "--certificate-authority", caFile, ...args], { env: { KUBECONFIG: emptyKubeconfig } });

  beforeAll(async () => {
    dir = tempDir("skiff-e2e-sat-");
    mkdirSync(join(dir, "data"), { recursive: true });
    writeFileSync(
      join(dir, "data", "skiff.yaml"),
      JSON.stringify({
        nodeName: NODE,
        runtime: "process",
        plugins: { "runtime-process": { config: names }, "node-agent": { config: { server: { port: 0 }, stopPodsOnExit: "always" } } },
      }),
    );
    emptyKubeconfig = join(dir, "empty-kubeconfig.yaml");
    writeFileSync(emptyKubeconfig, "apiVersion: v1\nkind: Config\n");
    s = await startServer("bun", [], { dir });
    await until("the node to register", () => s.kubectl(["get", "node", NODE]).code === 0);
  }, 90_000);

  afterAll(async () => {
    try {
      await s?.stop();
    } finally {
      await removeLeftovers({ stateDir: join(dir, "data", "runtime", "process"), ...names });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the pod reads a token bound to it and the cluster CA from its projected volume", async () => {
    s.k(["create", "serviceaccount", "reader"]);
    s.k(["create", "role", "pod-reader", "--verb=get,list", "--resource=pods"]);
    s.k(["create", "rolebinding", "reader-pods", "--role=pod-reader", "--serviceaccount=default:reader"]);
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "sa-pod" },
      spec: { serviceAccountName: "reader", terminationGracePeriodSeconds: 2, containers: [{ name: "c", image: "busybox", command: ["sleep", "3600"] }] },
    };
    s.k(["apply", "-f", "-"], { input: JSON.stringify(pod) });
    await until("sa-pod Running", () => s.k(["get", "pod", "sa-pod", "-o", "jsonpath={.status.phase}"]) === "Running", 60_000);

    token = s.k(["exec", "sa-pod", "--", "cat", `${SA_DIR}/token`]);
    const ca = s.k(["exec", "sa-pod", "--", "cat", `${SA_DIR}/ca.crt`]);
    expect(s.k(["exec", "sa-pod", "--", "cat", `${SA_DIR}/namespace`])).toBe("default");
    expect(ca).toStartWith("-----BEGIN CERTIFICATE-----");
    expect(s.k(["exec", "sa-pod", "--", "stat", "-L", "-c", "%a", `${SA_DIR}/token`]).trim()).toBe("644");
    caFile = join(dir, "pod-ca.crt");
    writeFileSync(caFile, ca);

    const uid = s.k(["get", "pod", "sa-pod", "-o", "jsonpath={.metadata.uid}"]);
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
    expect(claims.sub).toBe("system:serviceaccount:default:reader");
    expect(claims["kubernetes.io"].pod).toEqual({ name: "sa-pod", uid });
    expect(claims.exp - claims.iat).toBe(3607);
  });

  test("kubectl with the pod's token: allowed what the RoleBinding grants, 403 for the rest", () => {
    const pods = asPod(["get", "pods", "-o", "name"]);
    expect(pods.err).toBe("");
    expect(pods.code).toBe(0);
    expect(pods.out).toContain("pod/sa-pod");
    expect(asPod(["auth", "can-i", "list", "pods"]).out.trim()).toBe("yes");
    expect(asPod(["auth", "can-i", "list", "secrets"]).out.trim()).toBe("no");
    const secrets = asPod(["get", "secrets"]);
    expect(secrets.code).not.toBe(0);
    expect(secrets.err).toContain('Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:default:reader" cannot list resource "secrets"');
    expect(asPod(["delete", "pod", "sa-pod", "--dry-run=server"]).err).toContain("(Forbidden)");
  });

  test("after the pod is deleted, its token is rejected: 401", async () => {
    s.k(["delete", "pod", "sa-pod", "--wait=true", "--timeout=60s"]);
    const r = asPod(["get", "pods"]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("Unauthorized");
    // The ServiceAccount itself still exists: it is the binding to the pod that ended.
    expect(s.k(["get", "serviceaccount", "reader", "-o", "name"]).trim()).toBe("serviceaccount/reader");
  });
});
