/** @module Tests over all built-in kinds: registration, schema wiring, upstream list/patch annotations, shared-name uniqueness. */
import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../api/meta.ts";
import { TypeRegistry } from "../api/registry.ts";
import { findUnknownFields, typeErrors } from "../api/unknown-fields.ts";
import { itemsSchema, propertySchema, type Schema } from "../api/schema.ts";
import { BINDING_SCHEMA, builtinTypes, DELETE_OPTIONS, EVICTION_SCHEMA, OBJECT_META, SCALE_SCHEMA, STATUS } from "./index.ts";
import { walkSchemas } from "./schema-dsl.ts";

function at(root: Schema, path: string): Schema {
  let cur: Schema | undefined = root;
  for (const seg of path.split(".")) {
    cur = seg === "[]" ? itemsSchema(cur) : propertySchema(cur, seg);
    if (!cur) throw new Error(`no schema at ${path} (${seg})`);
  }
  return cur;
}

function kindSchema(kind: string): Schema {
  const t = builtinTypes().find((x) => x.kind === kind);
  if (!t?.schema) throw new Error(kind);
  return t.schema;
}

function ann(s: Schema) {
  const out: Record<string, unknown> = {};
  for (const k of ["x-kubernetes-patch-merge-key", "x-kubernetes-patch-strategy", "x-kubernetes-list-type", "x-kubernetes-list-map-keys"] as const) {
    if (s[k] !== undefined) out[k] = s[k];
  }
  return out;
}

describe("builtinTypes", () => {
  test("registers without duplicates; every kind has a schema with its GVK", () => {
    const reg = new TypeRegistry();
    for (const t of builtinTypes()) reg.register(t);
    expect(reg.all().map((t) => t.key).sort()).toEqual(
      [
        "configmaps",
        "controllerrevisions.apps",
        "daemonsets.apps",
        "deployments.apps",
        "endpoints",
        "events",
        "namespaces",
        "nodes",
        "persistentvolumeclaims",
        "pods",
        "podtemplates",
        "replicasets.apps",
        "replicationcontrollers",
        "secrets",
        "serviceaccounts",
        "services",
        "statefulsets.apps",
      ].sort(),
    );
    for (const t of reg.all()) {
      expect(t.schema?.["x-kubernetes-group-version-kind"]).toEqual([{ group: t.group, version: t.version, kind: t.kind }]);
      expect(t.columns[0]?.name === "Name" || t.kind === "Event").toBe(true);
    }
  });

  test("short names, categories and scope match upstream discovery", () => {
    const summary = Object.fromEntries(
      builtinTypes().map((t) => [t.plural, [t.shortNames ?? [], t.categories ?? [], t.namespaced, Boolean(t.subresources?.status), Boolean(t.subresources?.scale)]]),
    );
    expect(summary).toEqual({
      configmaps: [["cm"], [], true, false, false],
      endpoints: [["ep"], [], true, false, false],
      events: [["ev"], [], true, false, false],
      namespaces: [["ns"], [], false, true, false],
      nodes: [["no"], [], false, true, false],
      persistentvolumeclaims: [["pvc"], [], true, true, false],
      pods: [["po"], ["all"], true, true, false],
      podtemplates: [[], [], true, false, false],
      replicationcontrollers: [["rc"], ["all"], true, true, true],
      secrets: [[], [], true, false, false],
      serviceaccounts: [["sa"], [], true, false, false],
      services: [["svc"], ["all"], true, true, false],
      controllerrevisions: [[], [], true, false, false],
      daemonsets: [["ds"], ["all"], true, true, false],
      deployments: [["deploy"], ["all"], true, true, true],
      replicasets: [["rs"], ["all"], true, true, true],
      statefulsets: [["sts"], ["all"], true, true, true],
    });
  });

  test("a component name always denotes the same schema object", () => {
    const byName = new Map<string, Schema>();
    const roots = [...builtinTypes().map((t) => t.schema as Schema), BINDING_SCHEMA, EVICTION_SCHEMA, SCALE_SCHEMA, STATUS, DELETE_OPTIONS];
    for (const root of roots) {
      walkSchemas(root, (n) => {
        if (!n.name) return;
        const prev = byName.get(n.name);
        if (prev && prev !== n) throw new Error(`two schemas named ${n.name}`);
        byName.set(n.name, n);
      });
    }
    expect(byName.size).toBeGreaterThan(100);
    expect(byName.get("io.k8s.api.core.v1.PodSpec")).toBeDefined();
  });
});

describe("list and patch annotations as upstream declares them", () => {
  const pod = kindSchema("Pod");
  const cases: [Schema, string, Record<string, unknown>][] = [
    [pod, "spec.containers", { "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] }],
    [pod, "spec.containers.[].ports", { "x-kubernetes-patch-merge-key": "containerPort", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["containerPort", "protocol"] }],
    [pod, "spec.containers.[].env", { "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] }],
    [pod, "spec.containers.[].volumeMounts", { "x-kubernetes-patch-merge-key": "mountPath", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["mountPath"] }],
    [pod, "spec.containers.[].command", { "x-kubernetes-list-type": "atomic" }],
    [pod, "spec.volumes", { "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge,retainKeys", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] }],
    [pod, "spec.tolerations", { "x-kubernetes-list-type": "atomic" }],
    [pod, "spec.imagePullSecrets", { "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] }],
    [pod, "spec.topologySpreadConstraints", { "x-kubernetes-patch-merge-key": "topologyKey", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["topologyKey", "whenUnsatisfiable"] }],
    [pod, "status.conditions", { "x-kubernetes-patch-merge-key": "type", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }],
    [pod, "status.podIPs", { "x-kubernetes-patch-merge-key": "ip", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["ip"] }],
    [pod, "metadata.finalizers", { "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "set" }],
    [pod, "metadata.ownerReferences", { "x-kubernetes-patch-merge-key": "uid", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["uid"] }],
    [kindSchema("Service"), "spec.ports", { "x-kubernetes-patch-merge-key": "port", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port", "protocol"] }],
    [kindSchema("Node"), "status.addresses", { "x-kubernetes-patch-merge-key": "type", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }],
    [kindSchema("Deployment"), "spec.strategy", { "x-kubernetes-patch-strategy": "retainKeys" }],
    [kindSchema("Deployment"), "spec.template.spec.containers", { "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] }],
    [kindSchema("Deployment"), "status.conditions", { "x-kubernetes-patch-merge-key": "type", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }],
    [kindSchema("ServiceAccount"), "secrets", { "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] }],
  ];
  for (const [root, path, want] of cases) test(path, () => expect(ann(at(root, path))).toEqual(want));

  test("metadata is the shared ObjectMeta", () => {
    expect(at(kindSchema("Deployment"), "metadata")).toBe(OBJECT_META);
  });

  test("int-or-string and quantity fields", () => {
    expect(at(kindSchema("Deployment"), "spec.strategy.rollingUpdate.maxSurge")["x-kubernetes-int-or-string"]).toBe(true);
    expect(at(pod, "spec.containers.[].resources.limits.cpu").format).toBe("quantity");
  });
});

describe("defaulted objects stay within their schemas", () => {
  const fixtures: Record<string, unknown> = {
    Pod: {
      metadata: { name: "p" },
      spec: {
        containers: [{ name: "a", image: "x", ports: [{ containerPort: 80 }], livenessProbe: { grpc: { port: 1 } }, resources: { limits: { cpu: 1 } } }],
        volumes: [{ name: "v" }, { name: "h", hostPath: { path: "/x" } }, { name: "p", projected: { sources: [{ serviceAccountToken: { path: "t" } }] } }],
        schedulingGates: [{ name: "g" }],
      },
    },
    Deployment: {
      metadata: { name: "d" },
      spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "a", image: "x" }] } } },
    },
    StatefulSet: {
      metadata: { name: "s" },
      spec: {
        selector: { matchLabels: { a: "b" } },
        template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "a", image: "x" }] } },
        volumeClaimTemplates: [{ metadata: { name: "d" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
      },
    },
    Service: { metadata: { name: "s" }, spec: { type: "LoadBalancer", sessionAffinity: "ClientIP", ports: [{ port: 80 }] } },
    Namespace: { metadata: { name: "n" } },
    Secret: { metadata: { name: "s" }, stringData: { a: "b" } },
  };
  for (const [kind, body] of Object.entries(fixtures)) {
    test(kind, () => {
      const t = builtinTypes().find((x) => x.kind === kind);
      if (!t?.schema) throw new Error(kind);
      const obj = structuredClone(body) as KubeObject;
      t.strategy?.prepareForCreate?.(obj);
      t.strategy?.defaults?.(obj);
      expect(t.strategy?.validate?.(obj) ?? []).toEqual([]);
      expect(findUnknownFields(t.schema, obj)).toEqual([]);
      expect(typeErrors(t.schema, obj)).toEqual([]);
    });
  }
});
