import { describe, expect, test } from "bun:test";
import type { KubeObject, ManagedFieldsEntry } from "../../meta.ts";
import { DEPLOYMENT, nginxDeployment } from "../test-fixtures.ts";
import { serverSideApply, updateManagedFields, type UpdateManagedFieldsArgs } from "./apply.ts";
import { FieldSet, pathToString } from "./fieldpath.ts";

type Obj = Record<string, any>;
const at = (s: number): string => `2024-05-01T00:00:${String(s).padStart(2, "0")}Z`;

function update(live: Obj | undefined, updated: Obj, manager: string, opts: Partial<UpdateManagedFieldsArgs> = {}): ManagedFieldsEntry[] {
  return updateManagedFields({
    live: live as KubeObject | undefined,
    updated: updated as KubeObject,
    schema: DEPLOYMENT,
    manager,
    operation: "Update",
    apiVersion: "apps/v1",
    now: at(1),
    ...opts,
  });
}

/** `obj` carrying `managedFields`. */
function stored(obj: Obj, managedFields: ManagedFieldsEntry[]): Obj {
  return { ...obj, metadata: { ...obj.metadata, managedFields } };
}

function owned(entries: ManagedFieldsEntry[], manager: string): string[] {
  const e = entries.find((x) => x.manager === manager);
  return e ? FieldSet.fromFieldsV1(e.fieldsV1).paths().map(pathToString) : [];
}

describe("updateManagedFields", () => {
  test("a create gives the creator every field it set, with upstream's '.' markers", () => {
    expect(update(undefined, nginxDeployment(), "kubectl-create", { now: at(0) })).toEqual([
      {
        manager: "kubectl-create",
        operation: "Update",
        apiVersion: "apps/v1",
        time: at(0),
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
          "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
              "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
              "f:spec": {
                "f:containers": {
                  'k:{"name":"nginx"}': {
                    ".": {},
                    "f:image": {},
                    "f:name": {},
                    "f:ports": { ".": {}, 'k:{"containerPort":80,"protocol":"TCP"}': { ".": {}, "f:containerPort": {}, "f:protocol": {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  test("an update takes the fields it changes from an Apply manager", () => {
    const applied = serverSideApply({
      live: undefined,
      applied: nginxDeployment() as KubeObject,
      schema: DEPLOYMENT,
      manager: "kubectl",
      force: false,
      apiVersion: "apps/v1",
      now: at(0),
    }).object;
    const edited = structuredClone(applied) as Obj;
    edited.spec.replicas = 4;
    const entries = update(applied, edited, "kubectl-edit", { now: at(3) });
    expect(entries.map((e) => [e.manager, e.operation, e.time])).toEqual([
      ["kubectl", "Apply", at(0)],
      ["kubectl-edit", "Update", at(3)],
    ]);
    expect(owned(entries, "kubectl-edit")).toEqual([".spec.replicas"]);
    expect(owned(entries, "kubectl")).not.toContain(".spec.replicas");
  });

  test("a removed field leaves every set, and empty entries are dropped", () => {
    const base = nginxDeployment();
    const first = update(undefined, base, "creator", { now: at(0) });
    const labelled = stored(base, first);
    labelled.metadata.labels = { ...base.metadata.labels, tier: "fe" };
    const second = update(stored(base, first), labelled, "labeler", { now: at(2) });
    expect(owned(second, "labeler")).toEqual([".metadata.labels.tier"]);
    const unlabelled = structuredClone(stored(labelled, second));
    unlabelled.metadata.labels = {};
    const third = update(stored(labelled, second), unlabelled, "kubectl-label", { now: at(4) });
    expect(third.map((e) => e.manager)).toEqual(["creator"]);
    expect(owned(third, "creator")).not.toContain(".metadata.labels.app");
  });

  test("the same manager at two apiVersions has two entries", () => {
    const base = nginxDeployment();
    const first = update(undefined, base, "ctrl", { now: at(0) });
    const next = structuredClone(stored(base, first));
    next.spec.paused = true;
    const entries = update(stored(base, first), next, "ctrl", { apiVersion: "apps/v1beta2", now: at(2) });
    expect(entries.map((e) => `${e.manager}@${e.apiVersion}`)).toEqual(["ctrl@apps/v1", "ctrl@apps/v1beta2"]);
  });

  test("a subresource write is recorded with its subresource", () => {
    const base = stored(nginxDeployment(), update(undefined, nginxDeployment(), "creator", { now: at(0) }));
    const next = { ...structuredClone(base), status: { replicas: 1, readyReplicas: 1 } };
    const entries = update(base, next, "kube-controller-manager", { subresource: "status", now: at(2) });
    const status = entries.find((e) => e.manager === "kube-controller-manager");
    expect(status?.subresource).toBe("status");
    expect(status?.fieldsV1).toEqual({ "f:status": { "f:readyReplicas": {}, "f:replicas": {} } });
  });

  test("managedFields [{}] strips ownership from a stored object", () => {
    const base = stored(nginxDeployment(), update(undefined, nginxDeployment(), "creator", { now: at(0) }));
    base.metadata.uid = "u-1";
    const next = structuredClone(base);
    next.metadata.managedFields = [{}];
    next.spec.replicas = 2;
    expect(update(base, next, "resetter", { now: at(2) })).toEqual([]);
  });

  test("an existing object nobody tracks stays untracked; a create is always tracked", () => {
    const untracked: Obj = { ...nginxDeployment(), metadata: { ...nginxDeployment().metadata, uid: "u-1" } };
    const next = structuredClone(untracked);
    next.spec.replicas = 2;
    expect(update(untracked, next, "kubectl-edit")).toEqual([]);
    expect(update(undefined, untracked, "kubectl-create").map((e) => e.manager)).toEqual(["kubectl-create"]);
  });

  test("managedFields sent by the client replace the stored ones; an empty list does not", () => {
    const base = stored(nginxDeployment(), update(undefined, nginxDeployment(), "creator", { now: at(0) }));
    const custom: ManagedFieldsEntry[] = [
      { manager: "someone", operation: "Update", apiVersion: "apps/v1", time: at(0), fieldsType: "FieldsV1", fieldsV1: { "f:spec": { "f:replicas": {} } } },
    ];
    const withCustom = { ...structuredClone(base), metadata: { ...base.metadata, managedFields: custom } };
    expect(update(base, withCustom, "x").map((e) => e.manager)).toEqual(["someone"]);
    const withEmpty = { ...structuredClone(base), metadata: { ...base.metadata, managedFields: [] } };
    expect(update(base, withEmpty, "x").map((e) => e.manager)).toEqual(["creator"]);
  });

  test("a write that changes nothing leaves entries and times alone", () => {
    const entries = update(undefined, nginxDeployment(), "creator", { now: at(0) });
    const base = stored(nginxDeployment(), entries);
    expect(update(base, structuredClone(base), "creator", { now: at(9) })).toEqual(entries);
  });

  test("server-set metadata changes are never owned", () => {
    const base = stored(nginxDeployment(), update(undefined, nginxDeployment(), "creator", { now: at(0) }));
    const next = structuredClone(base);
    Object.assign(next.metadata, { resourceVersion: "9", generation: 2, uid: "u" });
    expect(update(base, next, "other").map((e) => e.manager)).toEqual(["creator"]);
  });

  test("more than ten updaters are folded into ancient-changes", () => {
    const labels: Record<string, string> = {};
    const managedFields: ManagedFieldsEntry[] = [];
    for (let i = 0; i < 10; i++) {
      labels[`l${i}`] = "x";
      managedFields.push({ manager: `m${i}`, operation: "Update", apiVersion: "apps/v1", time: at(10 + i), fieldsType: "FieldsV1", fieldsV1: { "f:metadata": { "f:labels": { [`f:l${i}`]: {} } } } });
    }
    const base = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", labels, managedFields } };
    const next = structuredClone(base) as Obj;
    next.metadata.labels.l10 = "x";
    const entries = update(base, next, "m10", { now: at(30) });
    expect(entries).toHaveLength(10);
    const ancient = entries.find((e) => e.manager === "ancient-changes");
    expect(ancient?.time).toBe(at(11));
    expect(owned(entries, "ancient-changes")).toEqual([".metadata.labels.l0", ".metadata.labels.l1"]);
    expect(entries.some((e) => e.manager === "m0" || e.manager === "m1")).toBe(false);
  });
  test("subtrees shared with the stored object (not copies) are unchanged; only real edits move ownership", () => {
    const base = stored(nginxDeployment(), update(undefined, nginxDeployment(), "creator", { now: at(0) }));
    // The patch engines and the storage may reuse the stored object's subtrees.
    const next = { ...base, spec: { ...base.spec, replicas: 7 } };
    const entries = update(base, next, "scaler", { now: at(2) });
    expect(owned(entries, "scaler")).toEqual([".spec.replicas"]);
    expect(owned(entries, "creator")).toContain(".spec.template.spec.containers[name=\"nginx\"].image");
    expect(owned(entries, "creator")).not.toContain(".spec.replicas");
  });

  test("a key holding undefined is recorded as set, whichever side it is on", () => {
    const base = nginxDeployment();
    const created = update(undefined, { ...base, spec: { ...base.spec, paused: undefined } }, "creator", { now: at(0) });
    expect(owned(created, "creator")).toContain(".spec.paused");
    const live = stored(base, update(undefined, base, "creator", { now: at(0) }));
    const same = { ...live, spec: { ...live.spec, paused: undefined } };
    expect(owned(update(live, same, "other", { now: at(2) }), "other")).toEqual([".spec.paused"]);
  });
});
