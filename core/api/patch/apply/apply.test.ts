import { describe, expect, test } from "bun:test";
import type { KubeObject, ManagedFieldsEntry } from "../../meta.ts";
import { DEPLOYMENT, nginxDeployment } from "../test-fixtures.ts";
import { FieldSet, pathToString } from "./fieldpath.ts";
import { serverSideApply, updateManagedFields, type ServerSideApplyArgs } from "./apply.ts";
import { thrownApiError } from "../../../../test/fixtures/api-error.ts";

type Obj = Record<string, any>;
const at = (s: number): string => `2024-05-01T00:00:${String(s).padStart(2, "0")}Z`;

function apply(live: KubeObject | undefined, applied: Obj, manager: string, opts: Partial<ServerSideApplyArgs> = {}) {
  return serverSideApply({ live, applied: applied as KubeObject, schema: DEPLOYMENT, manager, force: false, apiVersion: "apps/v1", now: at(1), ...opts });
}

/** The object as created by an ordinary write (e.g. client-side kubectl apply). */
function created(obj: Obj, manager = "kubectl-client-side-apply"): KubeObject {
  const managedFields = updateManagedFields({ live: undefined, updated: obj as KubeObject, schema: DEPLOYMENT, manager, operation: "Update", apiVersion: "apps/v1", now: at(0) });
  return { ...obj, metadata: { ...obj.metadata, uid: "u-1", resourceVersion: "7", managedFields } } as KubeObject;
}

function owned(entries: ManagedFieldsEntry[], manager: string, operation = "Apply"): string[] {
  const e = entries.find((x) => x.manager === manager && x.operation === operation);
  return e ? FieldSet.fromFieldsV1(e.fieldsV1).paths().map(pathToString) : [];
}

const failure = thrownApiError;

const NGINX_ITEM = '.spec.template.spec.containers[name="nginx"]';

describe("serverSideApply: create and ownership", () => {
  test("apply creates a missing object with one Apply entry", () => {
    const { object, managedFields } = apply(undefined, nginxDeployment(), "kubectl", { now: at(0) });
    expect({ ...object, metadata: { ...object.metadata, managedFields: undefined } }).toEqual({
      ...nginxDeployment(),
      metadata: { ...nginxDeployment().metadata, managedFields: undefined },
    });
    expect(object.metadata.managedFields).toEqual(managedFields);
    expect(managedFields).toEqual([
      {
        manager: "kubectl",
        operation: "Apply",
        apiVersion: "apps/v1",
        time: at(0),
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:metadata": { "f:labels": { "f:app": {} } },
          "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
              "f:metadata": { "f:labels": { "f:app": {} } },
              "f:spec": {
                "f:containers": {
                  'k:{"name":"nginx"}': {
                    ".": {},
                    "f:image": {},
                    "f:name": {},
                    "f:ports": { 'k:{"containerPort":80,"protocol":"TCP"}': { ".": {}, "f:containerPort": {}, "f:protocol": {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  test("server-set metadata survives an apply and is never owned", () => {
    const live = created(nginxDeployment());
    const { object, managedFields } = apply(live, nginxDeployment(), "kubectl");
    expect(object.metadata.uid).toBe("u-1");
    expect(object.metadata.resourceVersion).toBe("7");
    expect(owned(managedFields, "kubectl").filter((p) => p.startsWith(".metadata.") && !p.startsWith(".metadata.labels"))).toEqual([]);
  });

  test("a map-list key takes the protocol default, so re-applying it explicitly is the same item", () => {
    const cfg = nginxDeployment();
    cfg.spec.template.spec.containers[0].ports = [{ containerPort: 8080 }];
    const first = apply(undefined, cfg, "kubectl");
    expect(owned(first.managedFields, "kubectl")).toContain(`${NGINX_ITEM}.ports[containerPort=8080,protocol="TCP"]`);
    const again = nginxDeployment();
    again.spec.template.spec.containers[0].ports = [{ containerPort: 8080, protocol: "TCP" }];
    const second = apply(first.object, again, "kubectl");
    expect((second.object as Obj).spec.template.spec.containers[0].ports).toEqual([{ containerPort: 8080, protocol: "TCP" }]);
  });

  test("set lists are owned per value", () => {
    const a = nginxDeployment();
    a.metadata.finalizers = ["example.com/a"];
    const first = apply(undefined, a, "alpha");
    const b = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", finalizers: ["example.com/b"] } };
    const second = apply(first.object, b, "beta");
    expect(second.object.metadata.finalizers).toEqual(["example.com/a", "example.com/b"]);
    expect(second.managedFields.find((e) => e.manager === "beta")?.fieldsV1).toEqual({ "f:metadata": { "f:finalizers": { 'v:"example.com/b"': {} } } });
  });

  test("reset fields (status) are not owned", () => {
    const cfg = { ...nginxDeployment(), status: { replicas: 5 } };
    const { managedFields } = apply(undefined, cfg, "kubectl", { resetFields: [["status"]] });
    expect(owned(managedFields, "kubectl").some((p) => p.startsWith(".status"))).toBe(false);
  });

  test("without a schema maps are granular and lists atomic", () => {
    const widget = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" }, spec: { size: 1, tags: ["a", "b"], nested: { x: 1 } } };
    const opts = { schema: undefined, apiVersion: "example.com/v1" };
    const first = apply(undefined, widget, "kubectl", opts);
    expect(first.managedFields[0]?.fieldsV1).toEqual({ "f:spec": { ".": {}, "f:nested": { ".": {}, "f:x": {} }, "f:size": {}, "f:tags": {} } });
    const second = apply(first.object, { ...widget, spec: { size: 2, tags: ["c"] } }, "kubectl", opts);
    expect(second.object.spec).toEqual({ size: 2, tags: ["c"] });
  });
});

describe("serverSideApply: conflicts", () => {
  test("a second manager changing .spec.replicas conflicts", () => {
    const live = created(nginxDeployment());
    const cfg = nginxDeployment();
    cfg.spec.replicas = 3;
    const e = failure(() => apply(live, cfg, "kubectl"));
    expect(e.code).toBe(409);
    expect(e.reason).toBe("Conflict");
    expect(e.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    expect(e.details?.causes).toEqual([
      { reason: "FieldManagerConflict", message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: ".spec.replicas" },
    ]);
  });

  test("several conflicts are listed per manager", () => {
    const live = created(nginxDeployment());
    const cfg = nginxDeployment();
    cfg.spec.replicas = 3;
    cfg.spec.template.spec.containers[0].image = "nginx:1.26";
    const e = failure(() => apply(live, cfg, "kubectl"));
    expect(e.message).toBe(
      `Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:\n- .spec.replicas\n- ${NGINX_ITEM}.image`,
    );
    expect(e.details?.causes?.map((c) => c.field)).toEqual([".spec.replicas", `${NGINX_ITEM}.image`]);
  });

  test("an object nobody tracked yet conflicts with before-first-apply", () => {
    const untracked = { ...nginxDeployment(), metadata: { ...nginxDeployment().metadata, uid: "u-1" } } as KubeObject;
    const cfg = nginxDeployment();
    cfg.spec.replicas = 3;
    expect(failure(() => apply(untracked, cfg, "kubectl")).message).toBe(
      'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas',
    );
    const { managedFields } = apply(untracked, nginxDeployment(), "kubectl");
    expect(managedFields.map((e) => e.manager)).toEqual(["kubectl", "before-first-apply"]);
  });

  test("an Apply manager is named without an apiVersion", () => {
    const first = apply(undefined, nginxDeployment(), "alpha");
    const cfg = nginxDeployment();
    cfg.spec.replicas = 2;
    expect(failure(() => apply(first.object, cfg, "beta")).message).toBe('Apply failed with 1 conflict: conflict with "alpha": .spec.replicas');
  });

  test("force takes ownership from the other manager", () => {
    const live = created(nginxDeployment());
    const cfg = nginxDeployment();
    cfg.spec.replicas = 3;
    const { object, managedFields } = apply(live, cfg, "kubectl", { force: true });
    expect((object as Obj).spec.replicas).toBe(3);
    expect(owned(managedFields, "kubectl")).toContain(".spec.replicas");
    const csa = owned(managedFields, "kubectl-client-side-apply", "Update");
    expect(csa).not.toContain(".spec.replicas");
    expect(csa).toContain(`${NGINX_ITEM}.image`);
  });

  test("shared ownership of an equal value is not a conflict", () => {
    const live = created(nginxDeployment());
    const { object, managedFields } = apply(live, nginxDeployment(), "kubectl");
    expect((object as Obj).spec).toEqual(nginxDeployment().spec);
    expect(owned(managedFields, "kubectl")).toContain(".spec.replicas");
    expect(owned(managedFields, "kubectl-client-side-apply", "Update")).toContain(".spec.replicas");
  });

  test("an atomic list is owned whole: changing one element conflicts on the list", () => {
    const a = nginxDeployment();
    a.spec.template.spec.containers[0].args = ["--x", "--y"];
    const first = apply(undefined, a, "alpha");
    const b = nginxDeployment();
    b.spec.template.spec.containers[0].args = ["--z"];
    const e = failure(() => apply(first.object, b, "beta"));
    expect(e.details?.causes?.map((c) => c.field)).toEqual([`${NGINX_ITEM}.args`]);
    const forced = apply(first.object, b, "beta", { force: true });
    expect((forced.object as Obj).spec.template.spec.containers[0].args).toEqual(["--z"]);
  });
});

describe("serverSideApply: removing fields", () => {
  test("a manager dropping a field it owned removes it", () => {
    const cfg = nginxDeployment();
    cfg.metadata.labels = { app: "web", tier: "frontend" };
    const first = apply(undefined, cfg, "kubectl");
    const next = nginxDeployment();
    delete next.spec.replicas;
    const { object, managedFields } = apply(first.object, next, "kubectl");
    expect(object.metadata.labels).toEqual({ app: "web" });
    expect((object as Obj).spec.replicas).toBeUndefined();
    expect(owned(managedFields, "kubectl")).not.toContain(".spec.replicas");
    expect(object.metadata.name).toBe("web");
  });

  test("a dropped field that another manager also owns stays", () => {
    const cfg = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", labels: { tier: "frontend" } } };
    const first = apply(undefined, cfg, "alpha");
    const second = apply(first.object, cfg, "beta");
    const third = apply(second.object, { ...cfg, metadata: { name: "web", labels: { other: "x" } } }, "alpha");
    expect(third.object.metadata.labels).toEqual({ tier: "frontend", other: "x" });
    expect(owned(third.managedFields, "beta")).toEqual([".metadata.labels.tier"]);
    expect(owned(third.managedFields, "alpha")).toEqual([".metadata.labels.other"]);
  });

  test("a field another writer has since changed is not removed", () => {
    const first = apply(undefined, nginxDeployment(), "kubectl");
    const scaled = { ...structuredClone(first.object), spec: { ...(first.object as Obj).spec, replicas: 5 } } as KubeObject;
    scaled.metadata.managedFields = updateManagedFields({
      live: first.object,
      updated: scaled,
      schema: DEPLOYMENT,
      manager: "kubectl-scale",
      operation: "Update",
      apiVersion: "apps/v1",
      now: at(2),
    });
    const next = nginxDeployment();
    delete next.spec.replicas;
    const { object } = apply(scaled, next, "kubectl");
    expect((object as Obj).spec.replicas).toBe(5);
  });

  test("containers merge by name: the applier's dropped container goes, another writer's stays", () => {
    const cfg = nginxDeployment();
    cfg.spec.template.spec.containers.push({ name: "helper", image: "busybox" });
    const first = apply(undefined, cfg, "kubectl");
    const injected = structuredClone(first.object) as Obj;
    injected.spec.template.spec.containers.push({ name: "sidecar", image: "envoy:1" });
    injected.metadata.managedFields = updateManagedFields({
      live: first.object,
      updated: injected as KubeObject,
      schema: DEPLOYMENT,
      manager: "injector",
      operation: "Update",
      apiVersion: "apps/v1",
      now: at(2),
    });
    const next = nginxDeployment();
    next.spec.template.spec.containers[0].image = "nginx:1.26";
    const { object, managedFields } = apply(injected as KubeObject, next, "kubectl");
    expect((object as Obj).spec.template.spec.containers).toEqual([
      { name: "nginx", image: "nginx:1.26", ports: [{ containerPort: 80, protocol: "TCP" }] },
      { name: "sidecar", image: "envoy:1" },
    ]);
    expect(owned(managedFields, "injector", "Update")).toContain('.spec.template.spec.containers[name="sidecar"]');
    expect(owned(managedFields, "kubectl").some((p) => p.includes("helper"))).toBe(false);
  });
});

describe("serverSideApply: timestamps", () => {
  test("a no-op re-apply keeps the entry's time; a change updates it", () => {
    const first = apply(undefined, nginxDeployment(), "kubectl", { now: at(0) });
    const same = apply(first.object, nginxDeployment(), "kubectl", { now: at(5) });
    expect(same.managedFields[0]?.time).toBe(at(0));
    const cfg = nginxDeployment();
    cfg.spec.replicas = 4;
    const changed = apply(same.object, cfg, "kubectl", { now: at(9) });
    expect(changed.managedFields[0]?.time).toBe(at(9));
  });
});

describe("serverSideApply: bad requests", () => {
  test("a missing fieldManager is upstream's 422", () => {
    const e = failure(() => apply(undefined, nginxDeployment(), ""));
    expect(e.code).toBe(422);
    expect(e.message).toContain("is required for apply patch");
  });
  test("the body must use the endpoint's apiVersion", () => {
    const e = failure(() => apply(undefined, { ...nginxDeployment(), apiVersion: "apps/v1beta2" }, "kubectl"));
    expect(e.code).toBe(400);
    expect(e.message).toBe("Incorrect version specified in apply patch. Specified patch version: apps/v1beta2, expected: apps/v1");
  });
  test("managedFields may not be applied", () => {
    const cfg = nginxDeployment();
    cfg.metadata.managedFields = [];
    expect(failure(() => apply(undefined, cfg, "kubectl")).message).toBe("metadata.managedFields must be nil");
  });
  test("duplicate map-list keys are rejected", () => {
    const cfg = nginxDeployment();
    cfg.spec.template.spec.containers.push({ name: "nginx", image: "other" });
    const e = failure(() => apply(undefined, cfg, "kubectl"));
    expect(e.code).toBe(400);
    expect(e.message).toBe(
      'failed to create typed patch object (apps/v1, Kind=Deployment default/web): .spec.template.spec.containers: duplicate entries for key [name="nginx"]',
    );
  });
  test("map-list items need their keys", () => {
    const cfg = nginxDeployment();
    cfg.spec.template.spec.containers.push({ image: "anonymous" });
    expect(failure(() => apply(undefined, cfg, "kubectl")).message).toContain(
      '.spec.template.spec.containers: element 1: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
    );
  });
  test("inputs are not mutated", () => {
    const live = created(nginxDeployment());
    const cfg = nginxDeployment();
    cfg.spec.replicas = 3;
    const snapshot = structuredClone({ live, cfg });
    apply(live, cfg, "kubectl", { force: true });
    expect({ live, cfg }).toEqual(snapshot);
  });
});
