/** @module Tests for Service, ConfigMap, Secret, ServiceAccount, Namespace, Node, Event, Endpoints, ReplicationController and PVC. */
import { describe, expect, test } from "bun:test";
import { ApiError } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { admitCreate, admitUpdate, describeCauses } from "../test-helpers.ts";
import { configMapType, secretType, serviceAccountType } from "./config.ts";
import { endpointsType } from "./endpoints.ts";
import { eventType } from "./event.ts";
import { namespaceType } from "./namespace.ts";
import { nodeType } from "./node.ts";
import { pvcType } from "./pvc.ts";
import { replicationControllerType } from "./replication-controller.ts";
import { serviceType } from "./service.ts";

const NOW = Date.parse("2024-06-01T12:00:00Z");
const ago = (ms: number) => new Date(NOW - ms).toISOString();

function cells(type: ResourceTypeInit, o: KubeObject): unknown[] {
  return (type.columns ?? []).map((c) => c.cell(o, NOW));
}

function svc(spec: Record<string, unknown>, name = "web") {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec };
}

describe("Service", () => {
  test("defaults as a 1.32 single-stack server stores them (before IP allocation)", () => {
    const { obj, causes } = admitCreate(serviceType, svc({ selector: { app: "web" }, ports: [{ port: 80 }] }));
    expect(causes).toEqual([]);
    expect(obj.spec).toEqual({
      internalTrafficPolicy: "Cluster",
      ipFamilies: ["IPv4"],
      ipFamilyPolicy: "SingleStack",
      ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
      selector: { app: "web" },
      sessionAffinity: "None",
      type: "ClusterIP",
    });
    expect(obj.status).toEqual({ loadBalancer: {} });
  });

  test("NodePort and ClientIP defaults", () => {
    const { obj } = admitCreate(serviceType, svc({ type: "NodePort", sessionAffinity: "ClientIP", ports: [{ port: 80, targetPort: "http" }] }));
    const spec = obj.spec as Record<string, unknown>;
    expect(spec.externalTrafficPolicy).toBe("Cluster");
    expect(spec.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 10800 } });
    expect(spec.ports).toEqual([{ port: 80, protocol: "TCP", targetPort: "http" }]);
  });

  test("validation messages", () => {
    const { causes } = admitCreate(
      serviceType,
      svc({ type: "Cluster", ports: [{ port: 80 }, { name: "b", port: 80, nodePort: 30000 }] }),
    );
    expect(describeCauses(causes)).toEqual([
      'spec.type: Unsupported value: "Cluster": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
      "spec.ports[0].name: Required value",
      'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
    ]);
    expect(describeCauses(admitCreate(serviceType, svc({ ports: [] })).causes)).toEqual(["spec.ports: Required value"]);
    expect(describeCauses(admitCreate(serviceType, svc({ ports: [{ port: 80, nodePort: 30080 }] })).causes)).toEqual([
      "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    ]);
    expect(describeCauses(admitCreate(serviceType, svc({ ports: [{ port: 80 }] }, "1web")).causes)[0]).toContain("a DNS-1035 label");
  });

  test("a PUT without clusterIP or nodePorts keeps the allocated ones; changing the IP is refused", () => {
    const old = admitCreate(serviceType, svc({ type: "NodePort", ports: [{ name: "http", port: 80 }] })).obj;
    Object.assign(old.spec as object, { clusterIP: "10.96.0.10", clusterIPs: ["10.96.0.10"], ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: 80, nodePort: 30080 }] });
    const { obj, causes } = admitUpdate(serviceType, svc({ type: "NodePort", ports: [{ name: "http", port: 80 }] }), old);
    expect(causes).toEqual([]);
    const spec = obj.spec as Record<string, unknown>;
    expect(spec.clusterIP).toBe("10.96.0.10");
    expect(spec.ports).toEqual([{ name: "http", port: 80, protocol: "TCP", targetPort: 80, nodePort: 30080 }]);
    const moved = admitUpdate(serviceType, svc({ type: "NodePort", clusterIP: "10.96.0.11", ports: [{ name: "http", port: 80 }] }), old);
    expect(describeCauses(moved.causes)).toEqual(['spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set']);
  });

  test("columns", () => {
    const { obj } = admitCreate(serviceType, svc({ type: "LoadBalancer", selector: { app: "web" }, ports: [{ port: 80, nodePort: 31000 }, { name: "b", port: 53, protocol: "UDP" }] }));
    Object.assign(obj.spec as object, { clusterIPs: ["10.96.0.10"] });
    obj.metadata.creationTimestamp = ago(3 * 3600_000);
    expect(cells(serviceType, obj)).toEqual(["web", "LoadBalancer", "10.96.0.10", "<pending>", "80:31000/TCP,53/UDP", "3h", "app=web"]);
    obj.status = { loadBalancer: { ingress: [{ ip: "192.0.2.9" }, { hostname: "lb.example" }] } };
    expect(cells(serviceType, obj)[3]).toBe("192.0.2.9,lb.example");
    const ext = admitCreate(serviceType, svc({ type: "ExternalName", externalName: "db.example.com" })).obj;
    expect(cells(serviceType, ext).slice(1, 5)).toEqual(["ExternalName", "<none>", "db.example.com", "<none>"]);
  });
});

describe("ConfigMap / Secret / ServiceAccount", () => {
  test("configmap keys and immutability", () => {
    const bad = admitCreate(configMapType, { metadata: { name: "c" }, data: { "a b": "x" }, binaryData: { ok: "eA==" } });
    expect(describeCauses(bad.causes)).toEqual([
      "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    ]);
    const old = admitCreate(configMapType, { metadata: { name: "c" }, data: { a: "1" }, immutable: true }).obj;
    expect(describeCauses(admitUpdate(configMapType, { metadata: { name: "c" }, data: { a: "2" }, immutable: true }, old).causes)).toEqual([
      "data: Forbidden: field is immutable when `immutable` is set",
    ]);
    const cm = admitCreate(configMapType, { metadata: { name: "c" }, data: { a: "1", b: "2" }, binaryData: { c: "eA==" } }).obj;
    expect(cells(configMapType, cm)).toEqual(["c", 3, "<unknown>"]);
  });

  test("secret: type Opaque, stringData folded into data", () => {
    const { obj, causes } = admitCreate(secretType, { metadata: { name: "s" }, data: { a: "YQ==" }, stringData: { b: "héllo", a: "x" } });
    expect(causes).toEqual([]);
    expect(obj).toEqual({ metadata: { name: "s" }, type: "Opaque", data: { a: "eA==", b: "aMOpbGxv" } });
    expect(cells(secretType, obj)).toEqual(["s", "Opaque", 2, "<unknown>"]);
  });

  test("secret: bad base64 is a 400 like upstream's decoder", () => {
    expect(() => admitCreate(secretType, { metadata: { name: "s" }, data: { a: "not base64!" } })).toThrow(
      new ApiError({ reason: "BadRequest", message: 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3' }),
    );
  });

  test("secret: typed secrets and immutable type", () => {
    expect(describeCauses(admitCreate(secretType, { metadata: { name: "s" }, type: "kubernetes.io/tls", data: { "tls.crt": "" } }).causes)).toEqual([
      "data[tls.key]: Required value",
    ]);
    const old = admitCreate(secretType, { metadata: { name: "s" } }).obj;
    expect(describeCauses(admitUpdate(secretType, { metadata: { name: "s" }, type: "x/y" }, old).causes)).toEqual([
      'type: Invalid value: "x/y": field is immutable',
    ]);
  });

  test("service account column", () => {
    const { obj } = admitCreate(serviceAccountType, { metadata: { name: "default" }, secrets: [{ name: "t" }] });
    expect(cells(serviceAccountType, obj)).toEqual(["default", 1, "<unknown>"]);
  });
});

describe("Namespace", () => {
  test("create: Active, kubernetes finalizer, metadata.name label", () => {
    const { obj, causes } = admitCreate(namespaceType, { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } });
    expect(causes).toEqual([]);
    expect(obj).toEqual({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "team-a", labels: { "kubernetes.io/metadata.name": "team-a" } },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" },
    });
    expect(cells(namespaceType, obj)).toEqual(["team-a", "Active", "<unknown>"]);
  });

  test("the name label cannot be changed; finalizers change only via finalize", () => {
    const old = admitCreate(namespaceType, { metadata: { name: "a" } }).obj;
    const { obj } = admitUpdate(namespaceType, { metadata: { name: "a", labels: { "kubernetes.io/metadata.name": "b" } }, spec: { finalizers: [] } }, old);
    expect(obj.metadata.labels).toEqual({ "kubernetes.io/metadata.name": "a" });
    expect(obj.spec).toEqual({ finalizers: ["kubernetes"] });
  });

  test("finalizer names", () => {
    expect(describeCauses(admitCreate(namespaceType, { metadata: { name: "a" }, spec: { finalizers: ["foo"] } }).causes)).toEqual([
      'spec.finalizers[0]: Invalid value: "foo": name is neither a standard finalizer name nor is it fully qualified',
    ]);
  });
});

describe("Node", () => {
  const node = (extra: Record<string, unknown> = {}) => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: "n1", labels: { "node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "edge" }, creationTimestamp: ago(49 * 3600_000) },
    spec: {},
    status: {
      capacity: { cpu: "4", memory: "8Gi" },
      conditions: [{ type: "Ready", status: "True" }],
      addresses: [{ type: "InternalIP", address: "10.0.0.1" }, { type: "Hostname", address: "n1" }],
      nodeInfo: { kubeletVersion: "v1.32.4", osImage: "Debian GNU/Linux 12 (bookworm)", kernelVersion: "6.1.0", containerRuntimeVersion: "skiff://0.1.0" },
    },
    ...extra,
  });

  test("status is kept on create and allocatable defaults to capacity", () => {
    const { obj, causes } = admitCreate(nodeType, node());
    expect(causes).toEqual([]);
    expect((obj.status as Record<string, unknown>).allocatable).toEqual({ cpu: "4", memory: "8Gi" });
  });

  test("columns", () => {
    const { obj } = admitCreate(nodeType, node({ spec: { unschedulable: true } }));
    expect(cells(nodeType, obj)).toEqual([
      "n1",
      "Ready,SchedulingDisabled",
      "control-plane,edge",
      "2d1h",
      "v1.32.4",
      "10.0.0.1",
      "<none>",
      "Debian GNU/Linux 12 (bookworm)",
      "6.1.0",
      "skiff://0.1.0",
    ]);
    const bare = admitCreate(nodeType, { metadata: { name: "n2" } }).obj;
    expect(cells(nodeType, bare).slice(1, 3)).toEqual(["Unknown", "<none>"]);
  });

  test("taints", () => {
    const { causes } = admitCreate(nodeType, node({ spec: { taints: [{ key: "a", effect: "Sometimes" }, { effect: "NoSchedule" }] } }));
    expect(describeCauses(causes)).toEqual([
      'spec.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
      "spec.taints[1].key: Required value",
    ]);
  });
});

describe("Event", () => {
  const ev = (extra: Record<string, unknown> = {}) => ({
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: "web.17", namespace: "default" },
    involvedObject: { kind: "Pod", name: "web", namespace: "default", uid: "u1" },
    reason: "Pulled",
    message: "Successfully pulled image  ",
    type: "Normal",
    source: { component: "kubelet", host: "n1" },
    firstTimestamp: ago(10 * 60_000),
    lastTimestamp: ago(60_000),
    count: 3,
    ...extra,
  });

  test("namespace must agree", () => {
    expect(describeCauses(admitCreate(eventType, ev({ involvedObject: { kind: "Pod", name: "x", namespace: "other" } })).causes)).toEqual([
      'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
    ]);
  });

  test("new-style events need reporting fields", () => {
    expect(describeCauses(admitCreate(eventType, ev({ eventTime: "2024-06-01T11:59:00.000000Z", reason: "" })).causes)).toEqual([
      "reportingComponent: Required value",
      "reportingInstance: Required value",
      "action: Required value",
      "reason: Required value",
    ]);
  });

  test("columns: LAST SEEN TYPE REASON OBJECT MESSAGE (+ wide)", () => {
    const { obj } = admitCreate(eventType, ev());
    expect(cells(eventType, obj)).toEqual(["60s", "Normal", "Pulled", "pod/web", "", "kubelet, n1", "Successfully pulled image", "10m", 3, "web.17"]);
    expect(eventType.columns?.filter((c) => !c.priority).map((c) => c.name)).toEqual(["Last Seen", "Type", "Reason", "Object", "Message"]);
  });

  test("selectable fields default to empty strings", () => {
    const { obj } = admitCreate(eventType, ev());
    const get = eventType.selectableFields ?? {};
    expect(get["involvedObject.fieldPath"]?.(obj)).toBe("");
    expect(get.source?.(obj)).toBe("kubelet");
    expect(get["involvedObject.uid"]?.(obj)).toBe("u1");
  });
});

describe("Endpoints", () => {
  test("defaults and the ENDPOINTS column", () => {
    const body = {
      metadata: { name: "web" },
      subsets: [
        { addresses: [{ ip: "10.0.0.1" }, { ip: "10.0.0.2" }], ports: [{ port: 80 }, { name: "b", port: 443 }] },
        { addresses: [{ ip: "fd00::1" }] },
      ],
    };
    const { obj, causes } = admitCreate(endpointsType, body);
    expect(describeCauses(causes)).toEqual(["subsets[0].ports[0].name: Required value"]);
    expect((obj.subsets as { ports?: unknown[] }[])[0]?.ports).toEqual([{ port: 80, protocol: "TCP" }, { name: "b", port: 443, protocol: "TCP" }]);
    expect(cells(endpointsType, obj)[1]).toBe("10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 2 more...");
    expect(cells(endpointsType, admitCreate(endpointsType, { metadata: { name: "e" } }).obj)[1]).toBe("<none>");
  });
});

describe("ReplicationController and PVC", () => {
  test("RC selector and labels default from the template", () => {
    const { obj, causes } = admitCreate(replicationControllerType, {
      metadata: { name: "rc" },
      spec: { template: { metadata: { labels: { app: "a" } }, spec: { containers: [{ name: "c", image: "x:1" }] } } },
    });
    expect(causes).toEqual([]);
    expect(obj.metadata.labels).toEqual({ app: "a" });
    expect((obj.spec as Record<string, unknown>).selector).toEqual({ app: "a" });
    expect((obj.spec as Record<string, unknown>).replicas).toBe(1);
    expect(cells(replicationControllerType, obj)).toEqual(["rc", 1, 0, 0, "<unknown>", "c", "x:1", "app=a"]);
  });

  test("PVC defaults, validation and columns", () => {
    const bad = admitCreate(pvcType, { metadata: { name: "d" }, spec: {} });
    expect(describeCauses(bad.causes)).toEqual(["spec.accessModes: Required value: at least 1 access mode is required", "spec.resources[storage]: Required value"]);
    const { obj, causes } = admitCreate(pvcType, { metadata: { name: "d" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1024Mi" } } } });
    expect(causes).toEqual([]);
    expect(obj.spec).toEqual({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, volumeMode: "Filesystem" });
    expect(obj.status).toEqual({ phase: "Pending" });
    expect(cells(pvcType, obj)).toEqual(["d", "Pending", "", "", "", "", "<unset>", "<unknown>", "Filesystem"]);
  });
});
