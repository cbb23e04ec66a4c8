/**
 * kubectl against a real `skiff server` (server preset, no scheduler, no
 * node agent): a Service over pods whose IP and readiness the test reports
 * through the status subresource (`kubectl patch --subresource=status`), as a
 * kubelet would. The endpoints-controller and endpointslice-controller from
 * the preset must list the pod IPs where `kubectl get endpoints` and
 * `kubectl get endpointslices` show them.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { haveKubectl, startServer, type TestServer, until } from "./harness.ts";
import { describeWith } from "./require.ts";

setDefaultTimeout(60_000);

const MANIFESTS = `apiVersion: v1
kind: Node
metadata:
  name: edge-1
  labels: {topology.kubernetes.io/zone: attic}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: http
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  labels: {app: web}
spec:
  nodeName: edge-1
  containers:
  - name: nginx
    image: nginx:1.27
    ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata:
  name: web-2
  labels: {app: web}
spec:
  nodeName: edge-1
  containers:
  - name: nginx
    image: nginx:1.27
    ports: [{name: http, containerPort: 8080}]
`;

function status(ip: string, ready: boolean): string {
  return JSON.stringify({
    status: { phase: "Running", podIP: ip, podIPs: [{ ip }], conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  });
}

describeWith("endpoints e2e", haveKubectl(), "kubectl", () => {
  let s: TestServer;

  beforeAll(async () => {
    s = await startServer("bun", ["--preset", "server", "--disable", "scheduler"]);
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  test("kubectl get endpoints / endpointslices show the pod IPs of a Service", async () => {
    expect(s.k(["apply", "-f", "-"], { input: MANIFESTS })).toContain("service/web created");
    s.k(["patch", "pod", "web-1", "--subresource=status", "--type=merge", "-p", status("10.244.1.11", true)]);
    s.k(["patch", "pod", "web-2", "--subresource=status", "--type=merge", "-p", status("10.244.1.12", false)]);

    // Endpoints: the ready pod in ENDPOINTS (named target port resolved to 8080), the other not ready.
    const ep = await until("both pods in the Endpoints", () => {
      const e = JSON.parse(s.k(["get", "endpoints", "web", "-o", "json"]));
      return e.subsets?.[0]?.addresses?.length === 1 && e.subsets[0].notReadyAddresses?.length === 1 && e;
    });
    const table = s.k(["get", "endpoints", "web"]);
    expect(table).toMatch(/^NAME\s+ENDPOINTS\s+AGE/m);
    expect(table).toMatch(/^web\s+10\.244\.1\.11:8080\s+\d+s/m);
    expect(ep.subsets).toEqual([
      {
        addresses: [{ ip: "10.244.1.11", nodeName: "edge-1", targetRef: expect.objectContaining({ kind: "Pod", name: "web-1", namespace: "default" }) }],
        notReadyAddresses: [{ ip: "10.244.1.12", nodeName: "edge-1", targetRef: expect.objectContaining({ kind: "Pod", name: "web-2" }) }],
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      },
    ]);

    // EndpointSlices: both pods, conditions from readiness, zone from the Node.
    const slices = await until("endpointslices listed", () => {
      const out = s.k(["get", "endpointslices", "-l", "kubernetes.io/service-name=web"]);
      return /10\.244\.1\.11/.test(out) && /10\.244\.1\.12/.test(out) && out;
    });
    expect(slices).toMatch(/^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE/m);
    expect(slices).toMatch(/^web-[a-z0-9]{5}\s+IPv4\s+8080\s+10\.244\.1\.1[12],10\.244\.1\.1[12]\s+\d+s/m);
    const list = JSON.parse(s.k(["get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "json"]));
    expect(list.items).toHaveLength(1);
    const slice = list.items[0];
    expect(slice.metadata.labels["endpointslice.kubernetes.io/managed-by"]).toBe("endpointslice-controller.k8s.io");
    expect(slice.metadata.ownerReferences[0]).toMatchObject({ apiVersion: "v1", kind: "Service", name: "web", controller: true });
    const byIp = Object.fromEntries(slice.endpoints.map((e: { addresses: string[] }) => [e.addresses[0], e]));
    expect(byIp["10.244.1.11"]).toMatchObject({ conditions: { ready: true, serving: true, terminating: false }, nodeName: "edge-1", zone: "attic" });
    expect(byIp["10.244.1.12"]).toMatchObject({ conditions: { ready: false, serving: false, terminating: false } });

    // web-2 turns ready: both in ENDPOINTS.
    s.k(["patch", "pod", "web-2", "--subresource=status", "--type=merge", "-p", status("10.244.1.12", true)]);
    await until("both ready", () => /^web\s+10\.244\.1\.11:8080,10\.244\.1\.12:8080\s/m.test(s.k(["get", "endpoints", "web"])));

    // Both run under leader election, each on its own Lease.
    for (const lease of ["endpoints-controller", "endpointslice-controller"]) {
      expect(s.k(["get", "lease", "-n", "kube-system", lease, "-o", "jsonpath={.spec.holderIdentity}"])).not.toBe("");
    }

    // The Service goes: so do its Endpoints and slices.
    s.k(["delete", "service", "web"]);
    await until("endpoints gone", () => s.kubectl(["get", "endpoints", "web"]).code !== 0);
    await until("slices gone", () => s.k(["get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "name"]).trim() === "");
  });
});
