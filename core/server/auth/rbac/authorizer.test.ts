/**
 * @module The RBAC authorizer on an in-memory kernel: roles and bindings
 * created through the API, decisions checked as a matrix of verbs × scopes ×
 * resources for users bound to view, edit, admin and a custom role; the
 * bootstrap policy; ClusterRole aggregation.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { KubeObject } from "../../../api/meta.ts";
import { createKernel, type Kernel } from "../../../kernel.ts";
import { attributesOf } from "../request-attributes.ts";
import type { RequestAttributes, UserInfo } from "../types.ts";
import { CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES, ROLE_BINDINGS, ROLES } from "./authorizer.ts";
import { reconcileBootstrapPolicy } from "./reconcile.ts";

const NS = { group: "", version: "v1", resource: "namespaces", namespaced: false } as const;

/** Resolves once `f()` is truthy, checking after every macrotask turn; fails after `ms`. */
async function eventually<T>(what: string, f: () => T | Promise<T>, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"] as const;
const READ = new Set(["get", "list", "watch"]);
/** [group, resource] pairs the matrix covers. */
const RESOURCES: [string, string][] = [
  ["", "pods"],
  ["", "secrets"],
  ["apps", "deployments"],
  ["rbac.authorization.k8s.io", "roles"],
  ["", "nodes"],
];

function attrs(verb: string, group: string, resource: string, namespace: string): RequestAttributes {
  const named = !["list", "watch", "create", "deletecollection"].includes(verb);
  return { resourceRequest: true, path: "", verb, apiGroup: group, apiVersion: "v1", resource, subresource: "", namespace, name: named ? "x" : "" };
}

const user = (name: string, groups: string[] = []): UserInfo => ({ name, groups: [...groups, "system:authenticated"] });

let k: Kernel;
const allowed = async (u: UserInfo, a: RequestAttributes) => (await k.authorizer.authorize(u, a)).decision === "allow";

function binding(kind: "RoleBinding" | "ClusterRoleBinding", name: string, roleKind: string, role: string, subjects: object[], namespace?: string): KubeObject {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind,
    metadata: { name, ...(namespace ? { namespace } : {}) },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: roleKind, name: role },
    subjects,
  } as KubeObject;
}

beforeAll(async () => {
  k = await createKernel({ memory: true });
  for (const ns of ["team-a", "team-b"]) await k.client.create(NS, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  const c = k.client;
  await c.create(ROLES, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name: "pod-reader", namespace: "team-a" },
    rules: [{ verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] }, { verbs: ["get"], apiGroups: [""], resources: ["secrets"], resourceNames: ["allowed"] }],
  } as KubeObject);
  await c.create(ROLE_BINDINGS, binding("RoleBinding", "viewers", "ClusterRole", "view", [{ kind: "User", name: "viewer" }], "team-a"));
  await c.create(ROLE_BINDINGS, binding("RoleBinding", "editors", "ClusterRole", "edit", [{ kind: "Group", name: "editors" }], "team-a"));
  await c.create(ROLE_BINDINGS, binding("RoleBinding", "admins", "ClusterRole", "admin", [{ kind: "User", name: "nsadmin" }], "team-a"));
  await c.create(ROLE_BINDINGS, binding("RoleBinding", "readers", "Role", "pod-reader", [{ kind: "ServiceAccount", name: "robot" }], "team-a"));
  await c.create(CLUSTER_ROLE_BINDINGS, binding("ClusterRoleBinding", "global-viewers", "ClusterRole", "view", [{ kind: "User", name: "auditor" }]));
  await c.create(CLUSTER_ROLE_BINDINGS, binding("ClusterRoleBinding", "dangling", "ClusterRole", "no-such-role", [{ kind: "User", name: "ghost" }]));
  // The aggregated roles settle shortly after start; wait for admin to include the edit and view rules.
  await eventually("admin aggregated", async () => (await allowed(user("nsadmin"), attrs("get", "apps", "deployments", "team-a"))) && (await allowed(user("nsadmin"), attrs("create", "rbac.authorization.k8s.io", "roles", "team-a"))));
});

afterAll(async () => {
  await k.stop();
});

describe("bootstrap policy", () => {
  test("the default roles and bindings exist, annotated for auto-update", async () => {
    const roles = (await k.client.list(CLUSTER_ROLES)).items.map((r) => r.metadata.name);
    for (const r of ["cluster-admin", "admin", "edit", "view", "system:discovery", "system:basic-user", "system:public-info-viewer", "system:node", "system:kube-scheduler", "system:kube-controller-manager"]) {
      expect(roles).toContain(r);
    }
    const crb = await k.client.get<KubeObject & { subjects: unknown[]; roleRef: unknown }>(CLUSTER_ROLE_BINDINGS, "cluster-admin");
    expect(crb.subjects).toEqual([{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "system:masters" }]);
    expect(crb.metadata.annotations).toEqual({ "rbac.authorization.kubernetes.io/autoupdate": "true" });
    expect(crb.metadata.labels).toEqual({ "kubernetes.io/bootstrapping": "rbac-defaults" });
  });

  test("a new cluster starts with admin, edit and view already aggregated", async () => {
    const fresh = await createKernel({ memory: true });
    try {
      const get = async (name: string) => (await fresh.client.get<KubeObject & { rules?: { resources?: string[]; verbs: string[] }[] }>(CLUSTER_ROLES, name)).rules ?? [];
      const has = (rules: { resources?: string[]; verbs: string[] }[], resource: string, verb: string) => rules.some((r) => r.resources?.includes(resource) && r.verbs.includes(verb));
      const [view, edit, admin] = await Promise.all([get("view"), get("edit"), get("admin")]);
      expect(has(view, "pods", "list") && !has(view, "secrets", "get")).toBe(true);
      expect(has(edit, "pods", "list") && has(edit, "secrets", "get") && !has(edit, "roles", "create")).toBe(true);
      expect(has(admin, "pods", "list") && has(admin, "secrets", "delete") && has(admin, "roles", "create")).toBe(true);
    } finally {
      await fresh.stop();
    }
  });

  test("reconciliation: idempotent, restores removed defaults, respects autoupdate=false", async () => {
    expect(await reconcileBootstrapPolicy(k.client)).toEqual({ created: [], updated: [], recreated: [] });
    // A default rule removed and a subject dropped come back; a protected role keeps its edit.
    await k.client.patch(CLUSTER_ROLES, "system:basic-user", "merge", { rules: [{ verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews"] }] });
    await k.client.patch(CLUSTER_ROLE_BINDINGS, "system:public-info-viewer", "merge", { subjects: [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "system:authenticated" }] });
    await k.client.patch(CLUSTER_ROLES, "system:auth-delegator", "merge", { metadata: { annotations: { "rbac.authorization.kubernetes.io/autoupdate": "false" } }, rules: [] });
    await k.client.delete(CLUSTER_ROLE_BINDINGS, "system:kube-dns");
    const summary = await reconcileBootstrapPolicy(k.client);
    expect(summary.created).toEqual(["clusterrolebinding/system:kube-dns"]);
    expect(summary.updated.sort()).toEqual(["clusterrole/system:basic-user", "clusterrolebinding/system:public-info-viewer"]);
    const basic = await k.client.get<KubeObject & { rules: unknown[] }>(CLUSTER_ROLES, "system:basic-user");
    expect(basic.rules).toContainEqual({ apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectrulesreviews"], verbs: ["create"] });
    const piv = await k.client.get<KubeObject & { subjects: { name: string }[] }>(CLUSTER_ROLE_BINDINGS, "system:public-info-viewer");
    expect(piv.subjects.map((x) => x.name)).toEqual(["system:authenticated", "system:unauthenticated"]);
    expect((await k.client.get<KubeObject & { rules?: unknown[] }>(CLUSTER_ROLES, "system:auth-delegator")).rules ?? []).toEqual([]);
    expect(await reconcileBootstrapPolicy(k.client)).toEqual({ created: [], updated: [], recreated: [] });
  });

  test("anyone authenticated may discover, and ask about themselves; anonymous may read /version only", async () => {
    const anon: UserInfo = { name: "system:anonymous", groups: ["system:unauthenticated"] };
    expect(await allowed(user("nobody"), attributesOf("GET", "/apis/apps/v1"))).toBe(true);
    expect(await allowed(user("nobody"), attributesOf("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"))).toBe(true);
    expect(await allowed(user("nobody"), attributesOf("GET", "/api/v1/namespaces/team-a/pods"))).toBe(false);
    expect(await allowed(anon, attributesOf("GET", "/version"))).toBe(true);
    expect(await allowed(anon, attributesOf("GET", "/apis"))).toBe(false);
    expect(await allowed(user("nobody"), attributesOf("GET", "/metrics"))).toBe(false);
    expect(await allowed(user("prometheus", ["system:monitoring"]), attributesOf("GET", "/metrics"))).toBe(true);
  });

  test("system:masters may do anything; the scheduler identity only what its role grants", async () => {
    expect(await allowed({ name: "root", groups: ["system:masters"] }, attrs("delete", "", "nodes", ""))).toBe(true);
    const sched = user("system:kube-scheduler");
    expect(await allowed(sched, attributesOf("POST", "/api/v1/namespaces/team-a/pods/p/binding"))).toBe(true);
    expect(await allowed(sched, attributesOf("GET", "/api/v1/nodes"))).toBe(true);
    expect(await allowed(sched, attributesOf("GET", "/api/v1/namespaces/team-a/secrets/s"))).toBe(false);
    expect(await allowed(sched, attributesOf("PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler"))).toBe(true);
    expect(await allowed(sched, attributesOf("PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/other"))).toBe(false);
  });
});

describe("the verb × scope × resource matrix", () => {
  // What each user may do, written from the roles' definitions.
  const expectations: [string, UserInfo, (verb: string, group: string, resource: string, ns: string) => boolean][] = [
    ["view via RoleBinding", user("viewer"), (v, _g, r, ns) => ns === "team-a" && READ.has(v) && (r === "pods" || r === "deployments")],
    ["edit via RoleBinding to a group", user("carol", ["editors"]), (_v, _g, r, ns) => ns === "team-a" && (r === "pods" || r === "deployments" || r === "secrets")],
    ["admin via RoleBinding", user("nsadmin"), (_v, _g, r, ns) => ns === "team-a" && r !== "nodes"],
    ["custom Role via RoleBinding to a ServiceAccount", user("system:serviceaccount:team-a:robot"), (v, _g, r, ns) => ns === "team-a" && r === "pods" && (v === "get" || v === "list")],
    ["view via ClusterRoleBinding", user("auditor"), (v, _g, r) => READ.has(v) && (r === "pods" || r === "deployments")],
    ["a binding to a missing role", user("ghost"), () => false],
    ["nobody", user("nobody"), () => false],
  ];
  for (const [what, u, may] of expectations) {
    test(what, async () => {
      const wrong: string[] = [];
      for (const ns of ["team-a", "team-b", ""]) {
        for (const [group, resource] of RESOURCES) {
          if (resource === "nodes" && ns !== "") continue;
          for (const verb of VERBS) {
            const want = may(verb, group, resource, ns);
            const got = await allowed(u, attrs(verb, group, resource, ns));
            if (got !== want) wrong.push(`${verb} ${group}/${resource} in ${ns || "<cluster>"}: got ${got}, want ${want}`);
          }
        }
      }
      expect(wrong).toEqual([]);
    });
  }

  test("the headline rules", async () => {
    expect(await allowed(user("viewer"), attributesOf("GET", "/api/v1/namespaces/team-a/secrets/s"))).toBe(false);
    expect(await allowed(user("carol", ["editors"]), attributesOf("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles"))).toBe(false);
    expect(await allowed(user("nsadmin"), attributesOf("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles"))).toBe(true);
    expect(await allowed(user("nsadmin"), attributesOf("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team-b/roles"))).toBe(false);
    expect(await allowed(user("nsadmin"), attributesOf("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles"))).toBe(false);
  });

  test("subresources and resourceNames", async () => {
    const robot = user("system:serviceaccount:team-a:robot");
    expect(await allowed(robot, attributesOf("GET", "/api/v1/namespaces/team-a/secrets/allowed"))).toBe(true);
    expect(await allowed(robot, attributesOf("GET", "/api/v1/namespaces/team-a/secrets/other"))).toBe(false);
    expect(await allowed(robot, attributesOf("GET", "/api/v1/namespaces/team-a/secrets"))).toBe(false);
    expect(await allowed(robot, attributesOf("GET", "/api/v1/namespaces/team-a/secrets", new URLSearchParams("fieldSelector=metadata.name=allowed")))).toBe(false);
    expect(await allowed(robot, attributesOf("GET", "/api/v1/namespaces/team-a/pods/p/log"))).toBe(false);
    expect(await allowed(user("viewer"), attributesOf("GET", "/api/v1/namespaces/team-a/pods/p/log"))).toBe(true);
    expect(await allowed(user("viewer"), attributesOf("POST", "/api/v1/namespaces/team-a/pods/p/exec"))).toBe(false);
    expect(await allowed(user("carol", ["editors"]), attributesOf("POST", "/api/v1/namespaces/team-a/pods/p/exec"))).toBe(true);
    expect(await allowed(user("carol", ["editors"]), attributesOf("PUT", "/api/v1/namespaces/team-a/pods/p/status"))).toBe(false);
    expect(await allowed(user("carol", ["editors"]), attributesOf("PATCH", "/apis/apps/v1/namespaces/team-a/deployments/d/scale"))).toBe(true);
  });

  test("reasons name the binding, the role and the subject, as upstream", async () => {
    expect(await k.rbac.authorize(user("viewer"), attrs("get", "", "pods", "team-a"))).toEqual({
      decision: "allow",
      reason: 'RBAC: allowed by RoleBinding "viewers/team-a" of ClusterRole "view" to User "viewer"',
    });
    expect(await k.rbac.authorize(user("system:serviceaccount:team-a:robot"), attrs("get", "", "pods", "team-a"))).toEqual({
      decision: "allow",
      reason: 'RBAC: allowed by RoleBinding "readers/team-a" of Role "pod-reader" to ServiceAccount "robot/team-a"',
    });
    expect(await k.rbac.authorize(user("ghost"), attrs("get", "", "pods", "team-a"))).toEqual({
      decision: "no-opinion",
      reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "no-such-role" not found',
    });
  });

  test("changes through the API take effect", async () => {
    const dave = user("dave");
    expect(await allowed(dave, attrs("list", "", "pods", "team-b"))).toBe(false);
    await k.client.create(ROLE_BINDINGS, binding("RoleBinding", "dave-view", "ClusterRole", "view", [{ kind: "User", name: "dave" }], "team-b"));
    await eventually("dave's binding", () => allowed(dave, attrs("list", "", "pods", "team-b")));
    expect(await allowed(dave, attrs("list", "", "pods", "team-a"))).toBe(false);
    await k.client.delete(ROLE_BINDINGS, "dave-view", { namespace: "team-b" });
    await eventually("dave's binding gone", async () => !(await allowed(dave, attrs("list", "", "pods", "team-b"))));
  });
});

describe("aggregation", () => {
  test("a ClusterRole labelled aggregate-to-view extends view, edit and admin within a second, and leaves with its label", async () => {
    const widgets = attrs("get", "example.com", "widgets", "team-a");
    expect(await allowed(user("viewer"), widgets)).toBe(false);
    const started = performance.now();
    await k.client.create(CLUSTER_ROLES, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "widget-viewer", labels: { "rbac.authorization.k8s.io/aggregate-to-view": "true" } },
      rules: [{ verbs: ["get", "list", "watch"], apiGroups: ["example.com"], resources: ["widgets"] }],
    } as KubeObject);
    await eventually("view aggregates widget-viewer", () => allowed(user("viewer"), widgets), 1000);
    await eventually("admin aggregates it through edit", () => allowed(user("nsadmin"), widgets), 1000);
    expect(performance.now() - started).toBeLessThan(1000);
    const view = await k.client.get<KubeObject & { rules: unknown[] }>(CLUSTER_ROLES, "view");
    expect(view.rules).toContainEqual({ verbs: ["get", "list", "watch"], apiGroups: ["example.com"], resources: ["widgets"] });
    expect(view.rules).not.toContainEqual(expect.objectContaining({ resources: expect.arrayContaining(["secrets"]) }));

    await k.client.patch(CLUSTER_ROLES, "widget-viewer", "merge", { metadata: { labels: { "rbac.authorization.k8s.io/aggregate-to-view": null } } });
    await eventually("view drops widget-viewer", async () => !(await allowed(user("viewer"), widgets)), 1000);
    await eventually("admin drops it too", async () => !(await allowed(user("nsadmin"), widgets)), 1000);
  });
});
