/**
 * RBAC with kubectl 1.32 against a real `skiff server`: `kubectl auth can-i`
 * (SelfSubjectAccessReview and, with `--list`, SelfSubjectRulesReview),
 * `kubectl create role/rolebinding/clusterrole/clusterrolebinding` round
 * trips, the bootstrap roles and their aggregation, and SubjectAccessReviews
 * posted with `kubectl create --raw` that see those bindings.
 *
 * No authentication stage runs yet, so kubectl's requests act as the
 * in-process admin (system:masters): `can-i` answers yes to everything.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { haveKubectl, startServer, type TestServer, until } from "./harness.ts";
import { describeWith } from "./require.ts";

setDefaultTimeout(60_000);

describeWith("rbac e2e", haveKubectl(), "kubectl", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer("bun", ["--preset", "server", "--disable", "scheduler"]);
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  const review = (name: string, spec: object): { allowed: boolean; reason?: string } => {
    const p = join(s.dir, `${name}.json`);
    writeFileSync(p, JSON.stringify({ apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec }));
    return JSON.parse(s.k(["create", "--raw", "/apis/authorization.k8s.io/v1/subjectaccessreviews", "-f", p])).status;
  };

  test("kubectl auth can-i, as the in-process admin", () => {
    expect(s.k(["auth", "can-i", "create", "pods"]).trim()).toBe("yes");
    expect(s.k(["auth", "can-i", "delete", "nodes"]).trim()).toBe("yes");
    expect(s.k(["auth", "can-i", "get", "/healthz"]).trim()).toBe("yes");
    const list = s.k(["auth", "can-i", "--list", "-n", "default"]);
    expect(list).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs/m);
    expect(list).toMatch(/^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/m);
    expect(list).toMatch(/^\s+\[\*\]\s+\[\]\s+\[\*\]/m);
  });

  test("the bootstrap roles and bindings are there", () => {
    const roles = s.k(["get", "clusterroles", "-o", "name"]);
    for (const r of ["cluster-admin", "admin", "edit", "view", "system:discovery", "system:node", "system:kube-scheduler"]) expect(roles).toContain(`clusterrole.rbac.authorization.k8s.io/${r}\n`);
    const admin = JSON.parse(s.k(["get", "clusterrolebinding", "cluster-admin", "-o", "json"]));
    expect(admin.subjects).toEqual([{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:masters" }]);
    expect(admin.metadata.annotations["rbac.authorization.kubernetes.io/autoupdate"]).toBe("true");
    const wide = s.k(["get", "clusterrolebinding", "system:public-info-viewer", "-o", "wide"]);
    expect(wide).toMatch(/system:public-info-viewer\s+ClusterRole\/system:public-info-viewer\s+\S+\s+system:authenticated, system:unauthenticated/);
  });

  test("kubectl create role / rolebinding round trip, and a SubjectAccessReview sees them", async () => {
    expect(s.k(["create", "role", "pod-reader", "--verb=get,list,watch", "--resource=pods,pods/log", "-n", "default"])).toContain("role.rbac.authorization.k8s.io/pod-reader created");
    const role = JSON.parse(s.k(["get", "role", "pod-reader", "-n", "default", "-o", "json"]));
    expect(role.rules).toEqual([{ apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list", "watch"] }]);
    expect(s.k(["create", "rolebinding", "jane-reads", "--role=pod-reader", "--user=jane", "--serviceaccount=default:ci", "-n", "default"])).toContain(
      "rolebinding.rbac.authorization.k8s.io/jane-reads created",
    );
    const rb = JSON.parse(s.k(["get", "rolebinding", "jane-reads", "-n", "default", "-o", "json"]));
    expect(rb.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pod-reader" });
    expect(rb.subjects.map((x: { kind: string; name: string; namespace?: string }) => [x.kind, x.name, x.namespace])).toEqual([
      ["User", "jane", undefined],
      ["ServiceAccount", "ci", "default"],
    ]);
    await until("jane may list pods", () => review("jane-list", { user: "jane", resourceAttributes: { verb: "list", resource: "pods", namespace: "default" } }).allowed);
    expect(review("jane-log", { user: "jane", resourceAttributes: { verb: "get", resource: "pods", subresource: "log", name: "p", namespace: "default" } })).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "jane-reads/default" of Role "pod-reader" to User "jane"',
    });
    expect(review("jane-delete", { user: "jane", resourceAttributes: { verb: "delete", resource: "pods", name: "p", namespace: "default" } }).allowed).toBe(false);
    expect(review("jane-other-ns", { user: "jane", resourceAttributes: { verb: "list", resource: "pods", namespace: "kube-system" } }).allowed).toBe(false);
    expect(review("ci", { user: "system:serviceaccount:default:ci", groups: ["system:serviceaccounts"], resourceAttributes: { verb: "watch", resource: "pods", namespace: "default" } }).allowed).toBe(true);
    expect(s.k(["delete", "rolebinding", "jane-reads", "-n", "default"])).toContain("deleted");
    await until("jane's access gone", () => !review("jane-gone", { user: "jane", resourceAttributes: { verb: "list", resource: "pods", namespace: "default" } }).allowed);
  });

  test("kubectl create clusterrole (aggregated and plain) / clusterrolebinding round trip", async () => {
    expect(s.k(["create", "clusterrole", "monitoring", "--aggregation-rule=example.com/aggregate-to-monitoring=true"])).toContain("clusterrole.rbac.authorization.k8s.io/monitoring created");
    expect(s.k(["create", "clusterrole", "node-reader", "--verb=get,list", "--resource=nodes"])).toContain("clusterrole.rbac.authorization.k8s.io/node-reader created");
    expect(s.k(["label", "clusterrole", "node-reader", "example.com/aggregate-to-monitoring=true"])).toContain("labeled");
    await until("monitoring aggregates node-reader", () => {
      const m = JSON.parse(s.k(["get", "clusterrole", "monitoring", "-o", "json"]));
      return JSON.stringify(m.rules) === JSON.stringify([{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "list"] }]);
    });
    expect(s.k(["create", "clusterrolebinding", "ops-monitoring", "--clusterrole=monitoring", "--group=ops"])).toContain("clusterrolebinding.rbac.authorization.k8s.io/ops-monitoring created");
    await until("ops may list nodes", () => review("ops-nodes", { user: "ann", groups: ["ops"], resourceAttributes: { verb: "list", resource: "nodes" } }).allowed);
    expect(review("ops-delete", { user: "ann", groups: ["ops"], resourceAttributes: { verb: "delete", resource: "nodes", name: "n" } }).allowed).toBe(false);
  });

  test("view grows with a ClusterRole labelled aggregate-to-view, and never reads secrets", async () => {
    const p = join(s.dir, "widgets-view.yaml");
    writeFileSync(
      p,
      [
        "apiVersion: rbac.authorization.k8s.io/v1",
        "kind: ClusterRole",
        "metadata:",
        "  name: widgets-view",
        "  labels: {rbac.authorization.k8s.io/aggregate-to-view: \"true\"}",
        "rules:",
        "- {apiGroups: [example.com], resources: [widgets], verbs: [get, list, watch]}",
        "",
      ].join("\n"),
    );
    s.k(["apply", "-f", p]);
    s.k(["create", "rolebinding", "bob-view", "--clusterrole=view", "--user=bob", "-n", "default"]);
    await until("bob may read widgets", () => review("bob-widgets", { user: "bob", resourceAttributes: { verb: "get", group: "example.com", resource: "widgets", name: "w", namespace: "default" } }).allowed);
    expect(review("bob-secrets", { user: "bob", resourceAttributes: { verb: "get", resource: "secrets", name: "s", namespace: "default" } }).allowed).toBe(false);
    expect(review("bob-pods", { user: "bob", resourceAttributes: { verb: "list", resource: "pods", namespace: "default" } }).allowed).toBe(true);
  });
});
