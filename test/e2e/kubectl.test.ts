/**
 * kubectl 1.32 (the machine's /usr/bin/kubectl, fresh HOME) against a real
 * `skiff server`: each command is checked on what kubectl prints and on what
 * the server stored.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { haveKubectl, startServer, type TestServer } from "./harness.ts";
import { describeWith } from "./require.ts";

const DEPLOY = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
`;

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: p1
  labels: {app: p, tier: fe}
spec:
  containers:
  - name: c
    image: busybox
`;

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, minimum: 1}
              color: {type: string}
`;

setDefaultTimeout(60_000);

function json(s: string): any {
  return JSON.parse(s);
}

describeWith("kubectl e2e", haveKubectl(), "kubectl", () => {
  let s: TestServer;
  let files: string;
  const file = (name: string, body: string) => {
    const p = join(files, name);
    writeFileSync(p, body);
    return p;
  };

  beforeAll(async () => {
    // The API on its own: no node agent running the pods, no scheduler placing them.
    s = await startServer("bun", ["--preset", "server", "--disable", "scheduler"]);
    files = s.dir;
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  test("version, api-resources and namespaces", () => {
    expect(s.k(["version", "-o", "json"])).toContain('"minor": "32"');
    const res = s.k(["api-resources"]);
    for (const r of ["pods", "deployments", "namespaces", "configmaps", "services", "customresourcedefinitions"]) expect(res).toContain(r);
    const ns = s.k(["get", "ns"]);
    for (const n of ["default", "kube-system", "kube-public", "kube-node-lease"]) expect(ns).toMatch(new RegExp(`^${n}\\s+Active`, "m"));
  });

  test("client-side apply, then apply a change, stores what was applied", () => {
    const p = file("deploy.yaml", DEPLOY);
    expect(s.k(["apply", "-f", p])).toContain("deployment.apps/web created");
    expect(s.k(["apply", "-f", p])).toContain("deployment.apps/web unchanged");
    file("deploy.yaml", DEPLOY.replace("replicas: 2", "replicas: 3").replace("nginx:1.27", "nginx:1.28"));
    expect(s.k(["apply", "-f", p])).toContain("deployment.apps/web configured");
    const d = json(s.k(["get", "deploy", "web", "-o", "json"]));
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.template.spec.containers[0].image).toBe("nginx:1.28");
    // The strategic merge kept the container's ports.
    expect(d.spec.template.spec.containers[0].ports).toEqual([{ containerPort: 80, protocol: "TCP" }]);
    expect(d.metadata.generation).toBe(2);
    expect(d.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]).toContain("nginx:1.28");
    // Defaults were applied as Kubernetes does.
    expect(d.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } });
  });

  test("server-side apply creates, takes ownership and reports conflicts", () => {
    const p = file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: '1'\n");
    expect(s.k(["apply", "--server-side", "-f", p])).toContain("configmap/ssa serverside-applied");
    const cm = json(s.k(["get", "cm", "ssa", "-o", "json", "--show-managed-fields"]));
    expect(cm.metadata.managedFields[0]).toMatchObject({ manager: "kubectl", operation: "Apply" });
    const other = file("cm2.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: '2'\n");
    const r = s.kubectl(["apply", "--server-side", "--field-manager=other", "-f", other]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("conflict");
    expect(s.k(["apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", other])).toContain("serverside-applied");
    expect(json(s.k(["get", "cm", "ssa", "-o", "json"])).data.a).toBe("2");
  });

  test("create -f, get with tables, wide, labels, selectors, jsonpath and yaml", () => {
    s.k(["create", "-f", file("pod.yaml", POD)]);
    s.k(["create", "-f", file("pod2.yaml", POD.replace("p1", "p2").replace("tier: fe", "tier: be"))]);
    const table = s.k(["get", "pods"]);
    expect(table).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/m);
    expect(table).toMatch(/^p1\s+0\/1\s+Pending\s+0\s+\d+s/m);
    expect(s.k(["get", "pods", "-o", "wide"])).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/m);
    expect(s.k(["get", "pods", "--show-labels"])).toMatch(/p1 .*app=p,tier=fe/);
    expect(s.k(["get", "pods", "-l", "tier=be", "-o", "name"]).trim()).toBe("pod/p2");
    expect(s.k(["get", "pods", "-l", "tier in (fe,be),app!=x", "-o", "name"]).trim().split("\n")).toEqual(["pod/p1", "pod/p2"]);
    expect(s.k(["get", "pod", "p1", "-o", "jsonpath={.spec.containers[0].image}"])).toBe("busybox");
    expect(s.k(["get", "pod", "p1", "-o", "yaml"])).toContain("restartPolicy: Always");
    expect(s.k(["get", "pods", "-A"])).toMatch(/^NAMESPACE\s+NAME/m);
    expect(s.k(["get", "pods", "--field-selector", "metadata.name=p2", "-o", "name"]).trim()).toBe("pod/p2");
  });

  test("typed create commands (protobuf bodies)", () => {
    expect(s.k(["create", "deployment", "typed", "--image=nginx:1.27", "--replicas=2", "--port=80"])).toContain("deployment.apps/typed created");
    const d = json(s.k(["get", "deploy", "typed", "-o", "json"]));
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.template.spec.containers[0]).toMatchObject({ name: "nginx", image: "nginx:1.27", ports: [{ containerPort: 80, protocol: "TCP" }] });
    expect(d.spec.selector).toEqual({ matchLabels: { app: "typed" } });
    s.k(["create", "configmap", "typed-cm", "--from-literal=k=v"]);
    expect(json(s.k(["get", "cm", "typed-cm", "-o", "json"])).data).toEqual({ k: "v" });
    s.k(["create", "secret", "generic", "typed-secret", "--from-literal=password=hunter2"]);
    expect(json(s.k(["get", "secret", "typed-secret", "-o", "json"])).data).toEqual({ password: Buffer.from("hunter2").toString("base64") });
    s.k(["create", "service", "clusterip", "typed-svc", "--tcp=80:8080"]);
    expect(json(s.k(["get", "svc", "typed-svc", "-o", "json"])).spec.ports[0]).toMatchObject({ port: 80, targetPort: 8080, protocol: "TCP" });
    s.k(["create", "serviceaccount", "typed-sa"]);
    expect(s.k(["get", "sa", "typed-sa", "-o", "name"]).trim()).toBe("serviceaccount/typed-sa");
  });

  test("diff, server-side dry run, sort-by, custom columns, wait and drain", async () => {
    const diff = s.kubectl(["diff", "-f", file("diff.yaml", DEPLOY.replace("replicas: 2", "replicas: 7"))]);
    expect(diff.code).toBe(1); // kubectl diff exits 1 when there are differences
    expect(diff.out).toMatch(/^\+\s+replicas: 7$/m);
    expect(s.k(["create", "deployment", "dry", "--image=nginx", "--dry-run=server", "-o", "name"]).trim()).toBe("deployment.apps/dry");
    expect(s.kubectl(["get", "deploy", "dry"]).code).not.toBe(0);
    expect(s.k(["get", "pods", "-l", "app=p", "--sort-by=.metadata.name", "-o", "name"]).trim().split("\n")).toEqual(["pod/p1", "pod/p2"]);
    expect(s.k(["get", "pods", "-o", "custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image"])).toMatch(/^p1\s+busybox$/m);
    s.k(["create", "-f", file("wait.yaml", POD.replace("p1", "waited"))]);
    const waiting = Bun.spawn(["kubectl", "wait", "--for=delete", "pod/waited", "--timeout=20s"], {
      env: { PATH: process.env.PATH ?? "", HOME: join(s.dir, "home"), KUBECONFIG: s.kubeconfig },
      stdout: "pipe",
    });
    await Bun.sleep(300);
    s.k(["delete", "pod", "waited", "--wait=false"]);
    expect(await waiting.exited).toBe(0);
    s.k(["create", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: "drain-me" } }) });
    expect(s.k(["drain", "drain-me", "--ignore-daemonsets", "--timeout=10s"])).toContain("node/drain-me drained");
    expect(json(s.k(["get", "node", "drain-me", "-o", "json"])).spec.unschedulable).toBe(true);
  });

  test("explain reads the served schemas", () => {
    const out = s.k(["explain", "deployment.spec.strategy"]);
    expect(out).toMatch(/^KIND:\s+Deployment/m);
    expect(out).toMatch(/rollingUpdate\s+<RollingUpdateDeployment>/);
    expect(s.k(["explain", "pods.spec.containers"])).toMatch(/image\s+<string>/);
  });

  test("describe", () => {
    const out = s.k(["describe", "pod", "p1"]);
    expect(out).toMatch(/^Name:\s+p1/m);
    expect(out).toMatch(/^Namespace:\s+default/m);
    expect(out).toContain("busybox");
    expect(s.k(["describe", "deployment", "web"])).toMatch(/^Replicas:\s+3 desired/m);
  });

  test("label, annotate and the three patch types", () => {
    s.k(["label", "pod", "p1", "extra=yes"]);
    s.k(["annotate", "pod", "p1", "note=hello"]);
    s.k(["label", "pod", "p1", "tier-"]);
    let p = json(s.k(["get", "pod", "p1", "-o", "json"]));
    expect(p.metadata.labels).toEqual({ app: "p", extra: "yes" });
    expect(p.metadata.annotations.note).toBe("hello");
    s.k(["patch", "pod", "p1", "--type=merge", "-p", '{"metadata":{"labels":{"m":"1"}}}']);
    s.k(["patch", "pod", "p1", "--type=json", "-p", '[{"op":"add","path":"/metadata/labels/j","value":"2"}]']);
    s.k(["patch", "deploy", "web", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.29"}]}}}}']);
    p = json(s.k(["get", "pod", "p1", "-o", "json"]));
    expect(p.metadata.labels).toMatchObject({ m: "1", j: "2" });
    const d = json(s.k(["get", "deploy", "web", "-o", "json"]));
    expect(d.spec.template.spec.containers).toHaveLength(1);
    expect(d.spec.template.spec.containers[0]).toMatchObject({ name: "nginx", image: "nginx:1.29", ports: [{ containerPort: 80, protocol: "TCP" }] });
    const bad = s.kubectl(["patch", "pod", "p1", "--type=json", "-p", '[{"op":"test","path":"/metadata/name","value":"nope"}]']);
    expect(bad.code).not.toBe(0);
  });

  test("edit with a scripted editor", () => {
    const editor = file("editor.sh", "#!/bin/sh\nsed -i 's/image: busybox/image: busybox:1.36/' \"$1\"\n");
    Bun.spawnSync(["chmod", "+x", editor]);
    s.k(["edit", "pod", "p2"], { env: { KUBE_EDITOR: editor } });
    expect(s.k(["get", "pod", "p2", "-o", "jsonpath={.spec.containers[0].image}"])).toBe("busybox:1.36");
  });

  test("scale", () => {
    expect(s.k(["scale", "deploy", "web", "--replicas=5"])).toContain("deployment.apps/web scaled");
    expect(s.k(["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"])).toBe("5");
  });

  test("get -w streams changes", async () => {
    const proc = Bun.spawn(["kubectl", "get", "pods", "-w", "--output-watch-events"], {
      env: { PATH: process.env.PATH ?? "", HOME: join(s.dir, "home"), KUBECONFIG: s.kubeconfig },
      stdout: "pipe",
    });
    const reader = proc.stdout.getReader();
    let seen = "";
    const until = async (re: RegExp) => {
      const deadline = Date.now() + 10_000;
      while (!re.test(seen)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}: ${seen}`);
        const { value, done } = await reader.read();
        if (done) break;
        seen += new TextDecoder().decode(value);
      }
    };
    await until(/ADDED\s+p1/);
    s.k(["label", "pod", "p2", "watched=yes"]);
    await until(/MODIFIED\s+p2/);
    proc.kill();
  });

  test("get all, CRD and custom resources", async () => {
    expect(s.k(["get", "all"])).toContain("deployment.apps/web");
    s.k(["apply", "-f", file("crd.yaml", CRD)]);
    const deadline = Date.now() + 10_000;
    while (!s.kubectl(["api-resources", "--api-group=example.com"]).out.includes("widgets")) {
      if (Date.now() > deadline) throw new Error("CRD never served");
      await Bun.sleep(100);
    }
    s.k(["apply", "-f", file("w.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n  color: red\n")]);
    expect(s.k(["get", "wd"])).toMatch(/^w1\s+/m);
    expect(json(s.k(["get", "widget", "w1", "-o", "json"])).spec).toEqual({ size: 3, color: "red" });
    const invalid = s.kubectl(["apply", "-f", file("w2.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w2\nspec:\n  size: 0\n")]);
    expect(invalid.code).not.toBe(0);
    expect(invalid.err).toContain("spec.size");
  });

  test("delete with cascade variants", () => {
    expect(s.k(["delete", "pod", "p2"])).toContain('pod "p2" deleted');
    expect(s.kubectl(["get", "pod", "p2"]).err).toContain('pods "p2" not found');
    expect(s.k(["delete", "deploy", "web", "--cascade=orphan"])).toContain("deleted");
    s.k(["apply", "-f", file("d2.yaml", DEPLOY.replace("name: web", "name: web2"))]);
    expect(s.k(["delete", "deploy", "web2", "--cascade=foreground", "--wait=false"])).toContain("deleted");
  });

  test("cascading deletion follows ownerReferences: background, foreground, orphan", async () => {
    const owned = (owner: string, dep: string) => {
      s.k(["apply", "-f", file(`${owner}.yaml`, DEPLOY.replace("name: web", `name: ${owner}`))]);
      const uid = s.k(["get", "deploy", owner, "-o", "jsonpath={.metadata.uid}"]);
      const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: dep, ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: owner, uid, controller: true, blockOwnerDeletion: true }] } };
      s.k(["create", "-f", "-"], { input: JSON.stringify(cm) });
    };
    const gone = async (what: string[]) => {
      const deadline = Date.now() + 10_000;
      while (s.kubectl(["get", ...what]).code === 0) {
        if (Date.now() > deadline) throw new Error(`${what.join(" ")} was not collected`);
        await Bun.sleep(100);
      }
    };
    owned("bg", "bg-dep");
    s.k(["delete", "deploy", "bg"]);
    await gone(["cm", "bg-dep"]);
    owned("fg", "fg-dep");
    s.k(["delete", "deploy", "fg", "--cascade=foreground"]);
    await gone(["cm", "fg-dep"]);
    await gone(["deploy", "fg"]);
    owned("or", "or-dep");
    s.k(["delete", "deploy", "or", "--cascade=orphan"]);
    await gone(["deploy", "or"]);
    expect(json(s.k(["get", "cm", "or-dep", "-o", "json"])).metadata.ownerReferences).toBeUndefined();
  });

  test("namespaces: create, use, delete with contents", async () => {
    s.k(["create", "namespace", "team-a"]);
    s.k(["create", "-n", "team-a", "-f", file("p3.yaml", POD.replace("p1", "p3"))]);
    expect(s.k(["get", "pods", "-n", "team-a", "-o", "name"]).trim()).toBe("pod/p3");
    s.k(["delete", "namespace", "team-a", "--timeout=20s"]);
    expect(s.kubectl(["get", "ns", "team-a"]).code).not.toBe(0);
    const err = s.kubectl(["create", "-n", "nope", "-f", join(files, "p3.yaml")]);
    expect(err.err).toContain('namespaces "nope" not found');
  });
});
