/** @module Tests for apps/v1: defaults as a real API server stores them, idempotency, validation messages, table rows. */
import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../api/meta.ts";
import { admitCreate, admitUpdate, describeCauses } from "../test-helpers.ts";
import { daemonSetType, deploymentType, replicaSetType, statefulSetType } from "./index.ts";

const NOW = Date.parse("2024-06-01T12:00:00Z");

function deployment(extra: Record<string, unknown> = {}) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", labels: { app: "web" } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "nginx", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] },
      },
      ...extra,
    },
  };
}

const DEFAULTED_TEMPLATE_SPEC = {
  containers: [
    {
      image: "nginx:1.27",
      imagePullPolicy: "IfNotPresent",
      name: "nginx",
      ports: [{ containerPort: 80, protocol: "TCP" }],
      resources: {},
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
    },
  ],
  dnsPolicy: "ClusterFirst",
  restartPolicy: "Always",
  schedulerName: "default-scheduler",
  securityContext: {},
  terminationGracePeriodSeconds: 30,
};

describe("Deployment defaults", () => {
  test("match what kubectl get -o json shows from a 1.32 server", () => {
    const { obj, causes } = admitCreate(deploymentType, deployment());
    expect(causes).toEqual([]);
    expect(obj.spec).toEqual({
      progressDeadlineSeconds: 600,
      replicas: 2,
      revisionHistoryLimit: 10,
      selector: { matchLabels: { app: "web" } },
      strategy: { rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" }, type: "RollingUpdate" },
      template: { metadata: { creationTimestamp: null, labels: { app: "web" } }, spec: DEFAULTED_TEMPLATE_SPEC },
    });
    expect(obj.status).toEqual({});
  });

  test("replicas default to 1; Recreate gets no rollingUpdate", () => {
    const body = deployment({ strategy: { type: "Recreate" } });
    delete (body.spec as Record<string, unknown>).replicas;
    const { obj, causes } = admitCreate(deploymentType, body);
    expect(causes).toEqual([]);
    expect((obj.spec as Record<string, unknown>).replicas).toBe(1);
    expect((obj.spec as Record<string, unknown>).strategy).toEqual({ type: "Recreate" });
  });

  test("defaulting is idempotent", () => {
    const once = admitCreate(deploymentType, deployment()).obj;
    const twice = structuredClone(once);
    deploymentType.strategy?.defaults?.(twice);
    expect(twice).toEqual(once);
  });

  test("latest and untagged images are pulled Always; quantities are canonical", () => {
    const body = deployment();
    const c = (body.spec.template.spec.containers as Record<string, unknown>[])[0] as Record<string, unknown>;
    c.image = "nginx";
    c.resources = { limits: { cpu: 0.5, memory: "1024Mi" } };
    const { obj } = admitCreate(deploymentType, body);
    const out = (obj.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0];
    expect(out?.imagePullPolicy).toBe("Always");
    // templates do not get requests copied from limits (only Pods do)
    expect(out?.resources).toEqual({ limits: { cpu: "500m", memory: "1Gi" } });
  });
});

describe("Deployment validation", () => {
  test("selector must match template labels", () => {
    const body = deployment();
    body.spec.template.metadata.labels = { app: "other" };
    const { causes } = admitCreate(deploymentType, body);
    expect(describeCauses(causes)).toEqual([
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`',
    ]);
  });

  test("missing selector", () => {
    const body = deployment();
    delete (body.spec as Record<string, unknown>).selector;
    const { causes } = admitCreate(deploymentType, body);
    expect(describeCauses(causes)).toEqual([
      "spec.selector: Required value",
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    ]);
  });

  test("container without image, negative replicas, bad restart policy", () => {
    const body = deployment({ replicas: -1 });
    const spec = body.spec.template.spec as Record<string, unknown>;
    spec.containers = [{ name: "nginx" }];
    spec.restartPolicy = "Never";
    const { causes } = admitCreate(deploymentType, body);
    expect(describeCauses(causes)).toEqual([
      "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
      "spec.template.spec.containers[0].image: Required value",
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]);
    expect(causes[1]?.reason).toBe("FieldValueRequired");
  });

  test("rolling update with both zero", () => {
    const { causes } = admitCreate(deploymentType, deployment({ strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }));
    expect(describeCauses(causes)).toEqual(["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"]);
  });

  test("bad percent", () => {
    const { causes } = admitCreate(deploymentType, deployment({ strategy: { rollingUpdate: { maxSurge: "abc" } } }));
    expect(describeCauses(causes)).toEqual([
      "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"abc\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    ]);
  });

  test("Recreate with rollingUpdate is forbidden", () => {
    const { causes } = admitCreate(deploymentType, deployment({ strategy: { type: "Recreate", rollingUpdate: { maxSurge: 1 } } }));
    expect(describeCauses(causes)).toEqual(["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]);
  });

  test("selector is immutable, rendered like Go", () => {
    const old = admitCreate(deploymentType, deployment()).obj;
    const body = deployment();
    body.spec.selector = { matchLabels: { app: "web2" } };
    body.spec.template.metadata.labels = { app: "web2" };
    const { causes } = admitUpdate(deploymentType, body, old);
    expect(describeCauses(causes)).toEqual([
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
  });

  test("empty selector", () => {
    const { causes } = admitCreate(deploymentType, deployment({ selector: {} }));
    expect(describeCauses(causes)).toEqual([
      "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment",
    ]);
  });
});

function cells(type: typeof deploymentType, o: unknown, now = NOW) {
  return (type.columns ?? []).map((c) => c.cell(o as KubeObject, now));
}

describe("Deployment table", () => {
  test("READY 2/3 UP-TO-DATE AVAILABLE AGE and wide columns", () => {
    const o = admitCreate(deploymentType, deployment({ replicas: 3 })).obj;
    o.metadata.creationTimestamp = "2024-06-01T11:55:00Z";
    o.status = { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2, replicas: 3 };
    expect(cells(deploymentType, o)).toEqual(["web", "2/3", 3, 2, "5m", "nginx", "nginx:1.27", "app=web"]);
    expect(deploymentType.columns?.map((c) => [c.name, c.type, c.priority])).toEqual([
      ["Name", "string", 0],
      ["Ready", "string", 0],
      ["Up-to-date", "string", 0],
      ["Available", "string", 0],
      ["Age", "string", 0],
      ["Containers", "string", 1],
      ["Images", "string", 1],
      ["Selector", "string", 1],
    ]);
  });

  test("fresh deployment shows 0/N", () => {
    const o = admitCreate(deploymentType, deployment()).obj;
    expect(cells(deploymentType, o).slice(0, 5)).toEqual(["web", "0/2", 0, 0, "<unknown>"]);
  });
});

describe("ReplicaSet / DaemonSet / StatefulSet", () => {
  test("ReplicaSet defaults, status and columns", () => {
    const body = { ...deployment(), kind: "ReplicaSet" };
    delete (body.spec as Record<string, unknown>).replicas;
    const { obj, causes } = admitCreate(replicaSetType, body);
    expect(causes).toEqual([]);
    expect((obj.spec as Record<string, unknown>).replicas).toBe(1);
    expect(obj.status).toEqual({ replicas: 0 });
    obj.status = { replicas: 1, readyReplicas: 1 };
    expect(cells(replicaSetType, obj)).toEqual(["web", 1, 1, 1, "<unknown>", "nginx", "nginx:1.27", "app=web"]);
  });

  test("DaemonSet defaults", () => {
    const body = { ...deployment(), kind: "DaemonSet" };
    delete (body.spec as Record<string, unknown>).replicas;
    const { obj, causes } = admitCreate(daemonSetType, body);
    expect(causes).toEqual([]);
    const spec = obj.spec as Record<string, unknown>;
    expect(spec.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    expect(spec.revisionHistoryLimit).toBe(10);
    expect(cells(daemonSetType, obj).slice(0, 7)).toEqual(["web", 0, 0, 0, 0, 0, "<none>"]);
  });

  test("StatefulSet defaults incl. claim templates", () => {
    const body = {
      ...deployment(),
      kind: "StatefulSet",
      spec: {
        ...deployment().spec,
        serviceName: "web",
        volumeClaimTemplates: [
          { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1024Mi" } } } },
        ],
      },
    };
    const { obj, causes } = admitCreate(statefulSetType, body);
    expect(causes).toEqual([]);
    const spec = obj.spec as Record<string, unknown>;
    expect(spec.podManagementPolicy).toBe("OrderedReady");
    expect(spec.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { partition: 0 } });
    expect(spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    expect(spec.volumeClaimTemplates).toEqual([
      {
        metadata: { creationTimestamp: null, name: "data" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, volumeMode: "Filesystem" },
        status: { phase: "Pending" },
      },
    ]);
    obj.status = { readyReplicas: 1, replicas: 2 };
    expect(cells(statefulSetType, obj)).toEqual(["web", "1/2", "<unknown>", "nginx", "nginx:1.27"]);
  });

  test("StatefulSet forbids changing serviceName", () => {
    const body = { ...deployment(), kind: "StatefulSet", spec: { ...deployment().spec, serviceName: "a" } };
    const old = admitCreate(statefulSetType, body).obj;
    const next = structuredClone(old);
    (next.spec as Record<string, unknown>).serviceName = "b";
    const { causes } = admitUpdate(statefulSetType, next, old);
    expect(causes.map((c) => c.field)).toEqual(["spec"]);
  });
});
