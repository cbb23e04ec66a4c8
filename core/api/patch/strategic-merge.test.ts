import { describe, expect, test } from "bun:test";
import { ApiError } from "../errors.ts";
import type { Schema } from "../schema.ts";
import { applyStrategicMergePatch } from "./strategic-merge.ts";
import { DEPLOYMENT, nginxDeployment } from "./test-fixtures.ts";

type Obj = Record<string, unknown>;

/** A Deployment whose pod spec is `podSpec`. */
function withPodSpec(podSpec: Obj, meta: Obj = {}): Obj {
  return { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", ...meta }, spec: { template: { spec: podSpec } } };
}
/** A patch touching only the pod spec. */
function podPatch(podSpec: Obj): Obj {
  return { spec: { template: { spec: podSpec } } };
}

const nginx = { name: "nginx", image: "nginx:1.25", ports: [{ containerPort: 80, protocol: "TCP" }] };
const sidecar = { name: "sidecar", image: "envoy:1" };

interface Case {
  name: string;
  doc: Obj;
  patch: unknown;
  want: Obj;
  schema?: Schema | undefined;
}

const cases: Case[] = [
  {
    name: "merges containers by name: a new image keeps the ports",
    doc: withPodSpec({ containers: [nginx] }),
    patch: podPatch({ containers: [{ name: "nginx", image: "nginx:1.26" }] }),
    want: withPodSpec({ containers: [{ ...nginx, image: "nginx:1.26" }] }),
  },
  {
    name: "kubectl set image with $setElementOrder keeps the ports (compat doc §7)",
    doc: nginxDeployment(),
    patch: podPatch({ "$setElementOrder/containers": [{ name: "nginx" }], containers: [{ image: "nginx:1.26", name: "nginx" }] }),
    want: (() => {
      const d = nginxDeployment();
      d.spec.template.spec.containers = [{ name: "nginx", image: "nginx:1.26", ports: [{ containerPort: 80, protocol: "TCP" }] }];
      return d;
    })(),
  },
  {
    name: "a new list item without $setElementOrder goes before the live items (upstream order)",
    doc: withPodSpec({ containers: [nginx] }),
    patch: podPatch({ containers: [sidecar] }),
    want: withPodSpec({ containers: [sidecar, nginx] }),
  },
  {
    name: "$setElementOrder places a new container where the order says",
    doc: withPodSpec({ containers: [nginx] }),
    patch: podPatch({ "$setElementOrder/containers": [{ name: "nginx" }, { name: "sidecar" }], containers: [sidecar] }),
    want: withPodSpec({ containers: [nginx, sidecar] }),
  },
  {
    name: "$setElementOrder alone reorders the list",
    doc: withPodSpec({ containers: [nginx, sidecar] }),
    patch: podPatch({ "$setElementOrder/containers": [{ name: "sidecar" }, { name: "nginx" }] }),
    want: withPodSpec({ containers: [sidecar, nginx] }),
  },
  {
    name: "$patch: delete removes a list item",
    doc: withPodSpec({ containers: [nginx, sidecar] }),
    patch: podPatch({ containers: [{ name: "nginx", $patch: "delete" }] }),
    want: withPodSpec({ containers: [sidecar] }),
  },
  {
    name: "$patch: delete with $setElementOrder, as kubectl apply sends it",
    doc: withPodSpec({ containers: [nginx, sidecar] }),
    patch: podPatch({ "$setElementOrder/containers": [{ name: "sidecar" }], containers: [{ $patch: "delete", name: "nginx" }] }),
    want: withPodSpec({ containers: [sidecar] }),
  },
  {
    name: "$patch: delete on a nested list item (env)",
    doc: withPodSpec({ containers: [{ name: "nginx", env: [{ name: "A", value: "1" }, { name: "B", value: "2" }] }] }),
    patch: podPatch({ containers: [{ name: "nginx", env: [{ name: "A", $patch: "delete" }] }] }),
    want: withPodSpec({ containers: [{ name: "nginx", env: [{ name: "B", value: "2" }] }] }),
  },
  {
    name: "a $patch: replace item replaces the whole list",
    doc: withPodSpec({ containers: [nginx, sidecar] }),
    patch: podPatch({ containers: [{ name: "app", image: "app:1" }, { $patch: "replace" }] }),
    want: withPodSpec({ containers: [{ name: "app", image: "app:1" }] }),
  },
  {
    name: "$patch: replace on a map replaces it",
    doc: withPodSpec({ containers: [nginx], nodeSelector: { disk: "ssd", zone: "a" } }),
    patch: podPatch({ nodeSelector: { $patch: "replace", zone: "b" } }),
    want: withPodSpec({ containers: [nginx], nodeSelector: { zone: "b" } }),
  },
  {
    name: "$patch: delete on a map empties it",
    doc: withPodSpec({ containers: [nginx] }, { labels: { app: "web" } }),
    patch: { metadata: { labels: { $patch: "delete" } } },
    want: withPodSpec({ containers: [nginx] }, { labels: {} }),
  },
  {
    name: "$retainKeys on a volume switches its source",
    doc: withPodSpec({ containers: [nginx], volumes: [{ name: "data", emptyDir: {} }, { name: "cfg", configMap: { name: "c" } }] }),
    patch: podPatch({
      "$setElementOrder/volumes": [{ name: "data" }, { name: "cfg" }],
      volumes: [{ $retainKeys: ["hostPath", "name"], name: "data", hostPath: { path: "/srv" } }],
    }),
    want: withPodSpec({ containers: [nginx], volumes: [{ name: "data", hostPath: { path: "/srv" } }, { name: "cfg", configMap: { name: "c" } }] }),
  },
  {
    name: "$retainKeys on the deployment strategy drops rollingUpdate",
    doc: { spec: { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } } } },
    patch: { spec: { strategy: { $retainKeys: ["type"], type: "Recreate", rollingUpdate: null } } },
    want: { spec: { strategy: { type: "Recreate" } } },
  },
  {
    name: "$deleteFromPrimitiveList/finalizers removes values",
    doc: withPodSpec({ containers: [nginx] }, { finalizers: ["a", "b", "c"] }),
    patch: { metadata: { "$deleteFromPrimitiveList/finalizers": ["b"] } },
    want: withPodSpec({ containers: [nginx] }, { finalizers: ["a", "c"] }),
  },
  {
    name: "finalizers merge as a set, new values first (upstream order)",
    doc: withPodSpec({ containers: [nginx] }, { finalizers: ["a", "b"] }),
    patch: { metadata: { finalizers: ["c", "a"] } },
    want: withPodSpec({ containers: [nginx] }, { finalizers: ["c", "a", "b"] }),
  },
  {
    name: "$setElementOrder/finalizers orders a primitive merge list",
    doc: withPodSpec({ containers: [nginx] }, { finalizers: ["a", "b"] }),
    patch: { metadata: { "$setElementOrder/finalizers": ["a", "b", "c"], finalizers: ["c"] } },
    want: withPodSpec({ containers: [nginx] }, { finalizers: ["a", "b", "c"] }),
  },
  {
    name: "lists without merge info are replaced (args, tolerations)",
    doc: withPodSpec({ containers: [{ name: "nginx", args: ["a", "b"] }], tolerations: [{ key: "x" }] }),
    patch: podPatch({ containers: [{ name: "nginx", args: ["c"] }], tolerations: [{ key: "y" }] }),
    want: withPodSpec({ containers: [{ name: "nginx", args: ["c"] }], tolerations: [{ key: "y" }] }),
  },
  {
    name: "maps merge recursively and null deletes",
    doc: withPodSpec({ containers: [nginx] }, { labels: { app: "web", tier: "fe" }, annotations: { a: "1" } }),
    patch: { metadata: { labels: { tier: null, env: "prod" }, annotations: null } },
    want: withPodSpec({ containers: [nginx] }, { labels: { app: "web", env: "prod" } }),
  },
  {
    name: "ports merge by containerPort inside a merged container",
    doc: withPodSpec({ containers: [nginx] }),
    patch: podPatch({
      "$setElementOrder/containers": [{ name: "nginx" }],
      containers: [{ name: "nginx", "$setElementOrder/ports": [{ containerPort: 80 }, { containerPort: 443 }], ports: [{ containerPort: 443, protocol: "TCP" }] }],
    }),
    want: withPodSpec({ containers: [{ ...nginx, ports: [{ containerPort: 80, protocol: "TCP" }, { containerPort: 443, protocol: "TCP" }] }] }),
  },
  {
    name: "a new field is stored without directives, deleted items or nulls",
    doc: withPodSpec({ containers: [nginx] }),
    patch: podPatch({ initContainers: [{ name: "init", image: "busybox", args: null }, { name: "gone", $patch: "delete" }] }),
    want: withPodSpec({ containers: [nginx], initContainers: [{ name: "init", image: "busybox" }] }),
  },
  {
    name: "a value of another type replaces the field",
    doc: { spec: { replicas: 1, paused: "no" } },
    patch: { spec: { paused: true, selector: { matchLabels: { a: "b" } } } },
    want: { spec: { replicas: 1, paused: true, selector: { matchLabels: { a: "b" } } } },
  },
  {
    name: "without a schema maps merge and lists are replaced",
    schema: undefined,
    doc: { spec: { a: 1, list: [1, 2], m: { x: 1 } } },
    patch: { spec: { b: 2, list: [3], m: { y: 2 } } },
    want: { spec: { a: 1, b: 2, list: [3], m: { x: 1, y: 2 } } },
  },
  {
    name: "without a schema $setElementOrder still merges by its key (ports kept)",
    schema: undefined,
    doc: nginxDeployment(),
    patch: podPatch({ "$setElementOrder/containers": [{ name: "nginx" }], containers: [{ image: "nginx:1.26", name: "nginx" }] }),
    want: (() => {
      const d = nginxDeployment();
      d.spec.template.spec.containers = [{ name: "nginx", image: "nginx:1.26", ports: [{ containerPort: 80, protocol: "TCP" }] }];
      return d;
    })(),
  },
  {
    name: "without a schema $deleteFromPrimitiveList still deletes",
    schema: undefined,
    doc: { metadata: { finalizers: ["a", "b"] } },
    patch: { metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] } },
    want: { metadata: { finalizers: ["b"] } },
  },
  {
    name: "a patch under a field the object lacks is stored cleaned, its directives not applied",
    doc: { metadata: { name: "web" } },
    patch: { metadata: { labels: { $patch: "foo" } }, spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } } },
    want: { metadata: { name: "web" }, spec: { strategy: { type: "Recreate" } } },
  },
  {
    name: "a null patch changes nothing",
    doc: withPodSpec({ containers: [nginx] }),
    patch: null,
    want: withPodSpec({ containers: [nginx] }),
  },
];

describe("applyStrategicMergePatch", () => {
  for (const c of cases) {
    test(c.name, () => {
      const schema = "schema" in c ? c.schema : DEPLOYMENT;
      expect(applyStrategicMergePatch(c.doc, c.patch, schema)).toEqual(c.want);
    });
  }
});

interface ErrorCase {
  name: string;
  doc?: Obj;
  patch: unknown;
  code: number;
  message: string;
}

const errorCases: ErrorCase[] = [
  {
    name: "a list item without its merge key",
    patch: podPatch({ containers: [{ image: "x" }] }),
    code: 400,
    message: "map: map[image:x] does not contain declared merge key: name",
  },
  { name: "$patch: merge on a list", patch: podPatch({ containers: [{ $patch: "merge" }] }), code: 400, message: "merging lists cannot yet be specified in the patch" },
  {
    name: "an unknown $patch value on a map",
    doc: { metadata: { labels: { a: "b" } } },
    patch: { metadata: { labels: { $patch: "foo" } } },
    code: 400,
    message: "unknown patch type: foo in map: map[$patch:foo]",
  },
  {
    name: "lists of lists",
    doc: { metadata: { finalizers: [["a"]] } },
    patch: { metadata: { finalizers: [["b"]] } },
    code: 422,
    message: "the server rejected our request due to an error in our request",
  },
  {
    name: "a parallel deletion list without a field name",
    patch: { metadata: { $deleteFromPrimitiveListfinalizers: ["a"] } },
    code: 400,
    message: "invalid patch format of primitive list",
  },
  {
    name: "$setElementOrder not matching the patch list",
    patch: podPatch({ "$setElementOrder/containers": [{ name: "nginx" }], containers: [{ name: "other", image: "x" }] }),
    code: 400,
    message: "doesn't match $setElementOrder list",
  },
  { name: "$retainKeys that is not a list", doc: { spec: { strategy: { type: "Recreate" } } }, patch: { spec: { strategy: { $retainKeys: "type" } } }, code: 400, message: "invalid patch format of retainKeys" },
  {
    name: "$retainKeys missing a patched field",
    doc: { spec: { strategy: { type: "Recreate" } } },
    patch: { spec: { strategy: { $retainKeys: ["type"], rollingUpdate: { maxSurge: 2 } } } },
    code: 400,
    message: "invalid patch format of retainKeys",
  },
  { name: "a list patch", patch: [{ op: "add" }], code: 400, message: "json: cannot unmarshal array into Go value of type map[string]interface {}" },
];

describe("applyStrategicMergePatch errors", () => {
  for (const c of errorCases) {
    test(c.name, () => {
      let err: unknown;
      try {
        applyStrategicMergePatch(c.doc ?? withPodSpec({ containers: [nginx] }), c.patch, DEPLOYMENT);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe(c.code);
      expect((err as ApiError).message).toContain(c.message);
    });
  }
});

describe("applyStrategicMergePatch purity", () => {
  test("neither the document nor the patch is mutated", () => {
    const doc = withPodSpec({ containers: [nginx, sidecar], volumes: [{ name: "data", emptyDir: {} }] }, { finalizers: ["a", "b"] });
    const patch = {
      metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] },
      ...podPatch({
        "$setElementOrder/containers": [{ name: "sidecar" }, { name: "nginx" }],
        containers: [{ name: "nginx", image: "x" }],
        volumes: [{ $retainKeys: ["hostPath", "name"], name: "data", hostPath: { path: "/p" } }],
      }),
    };
    const snapshot = structuredClone({ doc, patch });
    const out = applyStrategicMergePatch(doc, patch, DEPLOYMENT) as Obj;
    expect({ doc, patch }).toEqual(snapshot);
    expect(out).not.toEqual(doc);
  });
});
