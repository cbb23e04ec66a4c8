/** @module Tests for the Pod kind: defaults, status on create, QoS, validation messages, selectable fields. */
import { describe, expect, test } from "bun:test";
import { defineType, selectableFieldValues } from "../../api/registry.ts";
import { ApiError } from "../../api/errors.ts";
import { admitCreate, admitUpdate, describeCauses } from "../test-helpers.ts";
import { podQOSClass } from "./pod-defaults.ts";
import { podType } from "./pod.ts";

function pod(spec: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default", ...extra }, spec };
}

describe("Pod defaults", () => {
  test("match what kubectl get -o json shows (minus admission plugins)", () => {
    const body = pod({
      containers: [
        {
          name: "main",
          image: "busybox",
          command: ["sleep", "3600"],
          resources: { limits: { cpu: "0.5", memory: "128Mi" } },
          livenessProbe: { httpGet: { port: 8080 } },
          env: [{ name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
          volumeMounts: [{ name: "cfg", mountPath: "/etc/cfg" }],
        },
      ],
      volumes: [{ name: "cfg", configMap: { name: "cfg" } }, { name: "scratch" }],
    });
    const { obj, causes } = admitCreate(podType, body);
    expect(describeCauses(causes)).toEqual([]);
    expect(obj.spec).toEqual({
      containers: [
        {
          command: ["sleep", "3600"],
          env: [{ name: "NODE", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "spec.nodeName" } } }],
          image: "busybox",
          imagePullPolicy: "Always",
          livenessProbe: {
            failureThreshold: 3,
            httpGet: { path: "/", port: 8080, scheme: "HTTP" },
            periodSeconds: 10,
            successThreshold: 1,
            timeoutSeconds: 1,
          },
          name: "main",
          resources: { limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "500m", memory: "128Mi" } },
          terminationMessagePath: "/dev/termination-log",
          terminationMessagePolicy: "File",
          volumeMounts: [{ mountPath: "/etc/cfg", name: "cfg" }],
        },
      ],
      dnsPolicy: "ClusterFirst",
      enableServiceLinks: true,
      restartPolicy: "Always",
      schedulerName: "default-scheduler",
      securityContext: {},
      terminationGracePeriodSeconds: 30,
      volumes: [
        { configMap: { defaultMode: 420, name: "cfg" }, name: "cfg" },
        { emptyDir: {}, name: "scratch" },
      ],
    });
    expect(obj.status).toEqual({ phase: "Pending", qosClass: "Guaranteed" });
  });

  test("idempotent", () => {
    const once = admitCreate(podType, pod({ containers: [{ name: "a", image: "nginx:1", ports: [{ containerPort: 80 }] }] })).obj;
    const again = structuredClone(once);
    podType.strategy?.defaults?.(again);
    expect(again).toEqual(once);
  });

  test("hostNetwork copies containerPort into hostPort", () => {
    const { obj } = admitCreate(podType, pod({ hostNetwork: true, containers: [{ name: "a", image: "x:1", ports: [{ containerPort: 53 }] }] }));
    const c = (obj.spec as { containers: { ports: unknown[] }[] }).containers[0];
    expect(c?.ports).toEqual([{ containerPort: 53, hostPort: 53, protocol: "TCP" }]);
  });

  test("scheduling gates add the SchedulingGated condition", () => {
    const { obj } = admitCreate(podType, pod({ schedulingGates: [{ name: "g" }], containers: [{ name: "a", image: "x:1" }] }));
    expect(obj.status).toEqual({
      phase: "Pending",
      qosClass: "BestEffort",
      conditions: [{ type: "PodScheduled", status: "False", reason: "SchedulingGated", message: "Scheduling is blocked due to non-empty scheduling gates" }],
    });
  });

  test("an unparsable quantity is a 400 like upstream's decoder", () => {
    expect(() => admitCreate(podType, pod({ containers: [{ name: "a", image: "x:1", resources: { limits: { cpu: "lots" } } }] }))).toThrow(
      new ApiError({
        reason: "BadRequest",
        message:
          "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
      }),
    );
  });
});

describe("QoS class", () => {
  const c = (resources: unknown) => ({ containers: [{ name: "a", image: "x", resources }] });
  test("BestEffort / Burstable / Guaranteed", () => {
    expect(podQOSClass(c({}))).toBe("BestEffort");
    expect(podQOSClass(c({ requests: { cpu: "100m" } }))).toBe("Burstable");
    expect(podQOSClass(c({ limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "1", memory: "1Gi" } }))).toBe("Guaranteed");
    expect(podQOSClass(c({ limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "500m", memory: "1Gi" } }))).toBe("Burstable");
    expect(podQOSClass(c({ limits: { cpu: "1" }, requests: { cpu: "1" } }))).toBe("Burstable");
  });
});

describe("Pod validation", () => {
  test("no containers", () => {
    expect(describeCauses(admitCreate(podType, pod({ containers: [] })).causes)).toEqual(["spec.containers: Required value"]);
  });

  test("common container mistakes", () => {
    const { causes } = admitCreate(
      podType,
      pod({
        restartPolicy: "Sometimes",
        containers: [
          { name: "Web", image: "nginx:1", ports: [{ containerPort: 70000, protocol: "tcp" }] },
          { name: "side", imagePullPolicy: "always" },
          { name: "side", image: "x:1", volumeMounts: [{ name: "data", mountPath: "/d" }] },
        ],
      }),
    );
    expect(describeCauses(causes)).toEqual([
      "spec.containers[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
      'spec.containers[0].ports[0].protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"',
      "spec.containers[1].image: Required value",
      'spec.containers[1].imagePullPolicy: Unsupported value: "always": supported values: "Always", "IfNotPresent", "Never"',
      'spec.containers[2].name: Duplicate value: "side"',
      'spec.containers[2].volumeMounts[0].name: Not found: "data"',
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ]);
    expect(causes.map((c) => c.reason)).toContain("FieldValueNotSupported");
  });

  test("probes and resources", () => {
    const { causes } = admitCreate(
      podType,
      pod({
        containers: [
          {
            name: "a",
            image: "x:1",
            livenessProbe: { successThreshold: 2, exec: { command: ["true"] } },
            readinessProbe: {},
            resources: { limits: { cpu: "1" }, requests: { cpu: "2" } },
          },
        ],
      }),
    );
    expect(describeCauses(causes)).toEqual([
      "spec.containers[0].resources.requests[cpu]: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
      "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
      "spec.containers[0].readinessProbe: Required value: must specify a handler type",
    ]);
  });

  test("volumes", () => {
    const { causes } = admitCreate(
      podType,
      pod({
        containers: [{ name: "a", image: "x:1" }],
        volumes: [{ name: "v", emptyDir: {}, hostPath: { path: "/x" } }, { name: "v", secret: { secretName: "s" } }],
      }),
    );
    expect(describeCauses(causes)).toEqual([
      "spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type",
      'spec.volumes[1].name: Duplicate value: "v"',
    ]);
  });

  test("updates may only change images and a few fields", () => {
    const old = admitCreate(podType, pod({ containers: [{ name: "a", image: "x:1" }] })).obj;
    const okBody = structuredClone(old);
    (okBody.spec as { containers: { image: string }[] }).containers[0]!.image = "x:2";
    expect(admitUpdate(podType, okBody, old).causes).toEqual([]);
    const bad = structuredClone(old);
    (bad.spec as Record<string, unknown>).restartPolicy = "Never";
    expect(describeCauses(admitUpdate(podType, bad, old).causes)).toEqual([
      "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
    ]);
  });
});

describe("Pod selectable fields", () => {
  test("unscheduled pods select with spec.nodeName=", () => {
    const t = defineType(podType);
    const { obj } = admitCreate(podType, pod({ containers: [{ name: "a", image: "x:1" }] }));
    expect(selectableFieldValues(t, obj)).toEqual({
      "metadata.name": "p",
      "metadata.namespace": "default",
      "spec.nodeName": "",
      "spec.restartPolicy": "Always",
      "spec.schedulerName": "default-scheduler",
      "spec.serviceAccountName": "",
      "spec.hostNetwork": "false",
      "status.phase": "Pending",
      "status.podIP": "",
      "status.nominatedNodeName": "",
    });
  });
});

describe("Pod binding through the update path", () => {
  test("setting nodeName on an unbound pod passes; moving a bound pod does not", () => {
    const old = admitCreate(podType, pod({ containers: [{ name: "a", image: "x:1" }] })).obj;
    const bound = structuredClone(old);
    (bound.spec as Record<string, unknown>).nodeName = "n1";
    expect(admitUpdate(podType, bound, old).causes).toEqual([]);
    const moved = structuredClone(bound);
    (moved.spec as Record<string, unknown>).nodeName = "n2";
    expect(admitUpdate(podType, moved, bound).causes.map((c) => c.field)).toEqual(["spec"]);
  });
});
