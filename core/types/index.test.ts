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
    expect(reg.all().map((t) => `${t.key}@${t.version}`).sort()).toEqual(
      [
        "configmaps@v1",
        "controllerrevisions.apps@v1",
        "daemonsets.apps@v1",
        "deployments.apps@v1",
        "endpoints@v1",
        "events@v1",
        "events.events.k8s.io@v1",
        "limitranges@v1",
        "namespaces@v1",
        "nodes@v1",
        "persistentvolumeclaims@v1",
        "persistentvolumes@v1",
        "pods@v1",
        "podtemplates@v1",
        "replicasets.apps@v1",
        "replicationcontrollers@v1",
        "resourcequotas@v1",
        "secrets@v1",
        "serviceaccounts@v1",
        "services@v1",
        "statefulsets.apps@v1",
        "cronjobs.batch@v1",
        "jobs.batch@v1",
        "horizontalpodautoscalers.autoscaling@v2",
        "horizontalpodautoscalers.autoscaling@v1",
        "poddisruptionbudgets.policy@v1",
        "clusterrolebindings.rbac.authorization.k8s.io@v1",
        "clusterroles.rbac.authorization.k8s.io@v1",
        "rolebindings.rbac.authorization.k8s.io@v1",
        "roles.rbac.authorization.k8s.io@v1",
        "leases.coordination.k8s.io@v1",
        "endpointslices.discovery.k8s.io@v1",
        "ingressclasses.networking.k8s.io@v1",
        "ingresses.networking.k8s.io@v1",
        "networkpolicies.networking.k8s.io@v1",
        "priorityclasses.scheduling.k8s.io@v1",
      ].sort(),
    );
    for (const t of reg.all()) {
      expect(t.schema?.["x-kubernetes-group-version-kind"]).toEqual([{ group: t.group, version: t.version, kind: t.kind }]);
      expect(t.columns[0]?.name === "Name" || t.kind === "Event").toBe(true);
    }
  });

  test("short names, categories and scope match upstream discovery", () => {
    const summary = Object.fromEntries(
      builtinTypes().map((t) => [
        `${t.plural}${t.group ? `.${t.group}` : ""}/${t.version}`,
        [t.shortNames ?? [], t.categories ?? [], t.namespaced, Boolean(t.subresources?.status), Boolean(t.subresources?.scale)],
      ]),
    );
    expect(summary).toEqual({
      "configmaps/v1": [["cm"], [], true, false, false],
      "endpoints/v1": [["ep"], [], true, false, false],
      "events/v1": [["ev"], [], true, false, false],
      "limitranges/v1": [["limits"], [], true, false, false],
      "namespaces/v1": [["ns"], [], false, true, false],
      "nodes/v1": [["no"], [], false, true, false],
      "persistentvolumeclaims/v1": [["pvc"], [], true, true, false],
      "persistentvolumes/v1": [["pv"], [], false, true, false],
      "pods/v1": [["po"], ["all"], true, true, false],
      "podtemplates/v1": [[], [], true, false, false],
      "replicationcontrollers/v1": [["rc"], ["all"], true, true, true],
      "resourcequotas/v1": [["quota"], [], true, true, false],
      "secrets/v1": [[], [], true, false, false],
      "serviceaccounts/v1": [["sa"], [], true, false, false],
      "services/v1": [["svc"], ["all"], true, true, false],
      "controllerrevisions.apps/v1": [[], [], true, false, false],
      "daemonsets.apps/v1": [["ds"], ["all"], true, true, false],
      "deployments.apps/v1": [["deploy"], ["all"], true, true, true],
      "replicasets.apps/v1": [["rs"], ["all"], true, true, true],
      "statefulsets.apps/v1": [["sts"], ["all"], true, true, true],
      "cronjobs.batch/v1": [["cj"], ["all"], true, true, false],
      "jobs.batch/v1": [[], ["all"], true, true, false],
      "horizontalpodautoscalers.autoscaling/v2": [["hpa"], ["all"], true, true, false],
      "horizontalpodautoscalers.autoscaling/v1": [["hpa"], ["all"], true, true, false],
      "poddisruptionbudgets.policy/v1": [["pdb"], [], true, true, false],
      "clusterrolebindings.rbac.authorization.k8s.io/v1": [[], [], false, false, false],
      "clusterroles.rbac.authorization.k8s.io/v1": [[], [], false, false, false],
      "rolebindings.rbac.authorization.k8s.io/v1": [[], [], true, false, false],
      "roles.rbac.authorization.k8s.io/v1": [[], [], true, false, false],
      "leases.coordination.k8s.io/v1": [[], [], true, false, false],
      "endpointslices.discovery.k8s.io/v1": [[], [], true, false, false],
      "ingressclasses.networking.k8s.io/v1": [[], [], false, false, false],
      "ingresses.networking.k8s.io/v1": [["ing"], [], true, true, false],
      "networkpolicies.networking.k8s.io/v1": [["netpol"], [], true, false, false],
      "priorityclasses.scheduling.k8s.io/v1": [["pc"], [], false, false, false],
      "events.events.k8s.io/v1": [["ev"], [], true, false, false],
    });
    const groupOrder = [...new Set(builtinTypes().map((t) => t.group))];
    expect(groupOrder).toEqual([
      "",
      "apps",
      "batch",
      "autoscaling",
      "policy",
      "rbac.authorization.k8s.io",
      "coordination.k8s.io",
      "discovery.k8s.io",
      "networking.k8s.io",
      "scheduling.k8s.io",
      "events.k8s.io",
    ]);
  });

  test("generation is tracked where upstream strategies set it", () => {
    const untracked = builtinTypes()
      .filter((t) => t.tracksGeneration === false)
      .map((t) => `${t.plural}${t.group ? `.${t.group}` : ""}`)
      .sort();
    expect(untracked).toEqual(
      [
        "clusterrolebindings.rbac.authorization.k8s.io",
        "clusterroles.rbac.authorization.k8s.io",
        "configmaps",
        "endpoints",
        "events",
        "events.events.k8s.io",
        "leases.coordination.k8s.io",
        "limitranges",
        "namespaces",
        "nodes",
        "persistentvolumeclaims",
        "persistentvolumes",
        "pods",
        "podtemplates",
        "priorityclasses.scheduling.k8s.io",
        "resourcequotas",
        "rolebindings.rbac.authorization.k8s.io",
        "roles.rbac.authorization.k8s.io",
        "secrets",
        "serviceaccounts",
        "services",
      ].sort(),
    );
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
  const hpaV2 = builtinTypes().find((t) => t.kind === "HorizontalPodAutoscaler" && t.version === "v2")?.schema as Schema;
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
    [kindSchema("Job"), "status.conditions", { "x-kubernetes-patch-merge-key": "type", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "atomic" }],
    [kindSchema("Job"), "spec.podFailurePolicy.rules", { "x-kubernetes-list-type": "atomic" }],
    [kindSchema("Job"), "spec.podFailurePolicy.rules.[].onExitCodes.values", { "x-kubernetes-list-type": "set" }],
    [kindSchema("Job"), "status.uncountedTerminatedPods.succeeded", { "x-kubernetes-list-type": "set" }],
    [kindSchema("CronJob"), "status.active", { "x-kubernetes-list-type": "atomic" }],
    [kindSchema("CronJob"), "spec.jobTemplate.spec.template.spec.containers", { "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] }],
    [hpaV2, "spec.metrics", { "x-kubernetes-list-type": "atomic" }],
    [hpaV2, "spec.behavior.scaleUp.policies", { "x-kubernetes-list-type": "atomic" }],
    [hpaV2, "status.conditions", { "x-kubernetes-patch-merge-key": "type", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }],
    [kindSchema("PodDisruptionBudget"), "status.conditions", { "x-kubernetes-patch-merge-key": "type", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }],
    [kindSchema("PodDisruptionBudget"), "spec.selector", { "x-kubernetes-patch-strategy": "replace" }],
    [kindSchema("ClusterRole"), "rules", { "x-kubernetes-list-type": "atomic" }],
    [kindSchema("ClusterRole"), "aggregationRule.clusterRoleSelectors", { "x-kubernetes-list-type": "atomic" }],
    [kindSchema("RoleBinding"), "subjects", { "x-kubernetes-list-type": "atomic" }],
    [kindSchema("EndpointSlice"), "endpoints", { "x-kubernetes-list-type": "atomic" }],
    [kindSchema("EndpointSlice"), "endpoints.[].addresses", { "x-kubernetes-list-type": "set" }],
    [kindSchema("Ingress"), "spec.rules.[].http.paths", { "x-kubernetes-list-type": "atomic" }],
    [kindSchema("NetworkPolicy"), "spec.ingress.[].from", { "x-kubernetes-list-type": "atomic" }],
    [kindSchema("ResourceQuota"), "spec.scopes", { "x-kubernetes-list-type": "atomic" }],
    [kindSchema("PersistentVolume"), "spec.accessModes", { "x-kubernetes-list-type": "atomic" }],
  ];
  for (const [root, path, want] of cases) test(path, () => expect(ann(at(root, path))).toEqual(want));

  test("metadata is the shared ObjectMeta", () => {
    expect(at(kindSchema("Deployment"), "metadata")).toBe(OBJECT_META);
  });

  test("structType atomic/granular and quantities in the new groups", () => {
    expect(at(kindSchema("RoleBinding"), "roleRef")["x-kubernetes-map-type"]).toBe("atomic");
    expect(at(kindSchema("PersistentVolume"), "spec.claimRef")["x-kubernetes-map-type"]).toBe("granular");
    expect(at(hpaV2, "spec.metrics.[].resource.target.averageValue").format).toBe("quantity");
    expect(at(kindSchema("PodDisruptionBudget"), "spec.minAvailable")["x-kubernetes-int-or-string"]).toBe(true);
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
    Job: { metadata: { name: "j" }, spec: { template: { spec: { containers: [{ name: "a", image: "x" }], restartPolicy: "Never" } } } },
    CronJob: {
      metadata: { name: "c" },
      spec: { schedule: "@daily", jobTemplate: { spec: { template: { spec: { containers: [{ name: "a", image: "x" }], restartPolicy: "OnFailure" } } } } },
    },
    HorizontalPodAutoscaler: {
      metadata: { name: "h" },
      spec: { scaleTargetRef: { kind: "Deployment", name: "d" }, maxReplicas: 3, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } },
    },
    PodDisruptionBudget: { metadata: { name: "p" }, spec: { minAvailable: "50%", selector: { matchLabels: { a: "b" } } } },
    ClusterRole: { metadata: { name: "r" }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }] },
    RoleBinding: { metadata: { name: "rb" }, roleRef: { kind: "Role", name: "r" }, subjects: [{ kind: "User", name: "u" }] },
    Lease: { metadata: { name: "l" }, spec: { holderIdentity: "me", leaseDurationSeconds: 15 } },
    EndpointSlice: { metadata: { name: "e" }, addressType: "IPv4", endpoints: [{ addresses: ["10.0.0.1"] }], ports: [{ port: 80 }] },
    Ingress: {
      metadata: { name: "i" },
      spec: { rules: [{ host: "a.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "s", port: { number: 80 } } } }] } }] },
    },
    NetworkPolicy: { metadata: { name: "n" }, spec: { egress: [{ ports: [{ port: 53 }] }] } },
    PriorityClass: { metadata: { name: "high" }, value: 1000 },
    ResourceQuota: { metadata: { name: "q" }, spec: { hard: { pods: 10, "requests.cpu": 0.5 } } },
    LimitRange: { metadata: { name: "l" }, spec: { limits: [{ type: "Container", max: { cpu: "1" } }] } },
    PersistentVolume: { metadata: { name: "pv" }, spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/d" } } },
  };
  for (const [kind, body] of Object.entries(fixtures)) {
    test(kind, () => {
      const t = builtinTypes().find((x) => x.kind === kind);
      if (!t?.schema) throw new Error(kind);
      const obj = structuredClone(body) as KubeObject;
      obj.apiVersion = t.group ? `${t.group}/${t.version}` : t.version;
      t.strategy?.prepareForCreate?.(obj);
      t.strategy?.defaults?.(obj);
      expect(t.strategy?.validate?.(obj) ?? []).toEqual([]);
      expect(findUnknownFields(t.schema, obj)).toEqual([]);
      expect(typeErrors(t.schema, obj)).toEqual([]);
    });
  }
});
