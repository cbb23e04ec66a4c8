/**
 * The built-in controllers through kubectl against a real `skiff server`:
 * Deployments (scale, self-healing, rolling update within maxSurge and
 * maxUnavailable as watched, rollout status/history/undo/pause/resume/
 * restart, cascading deletes), a ReplicationController, namespace deletion,
 * and a server restart in the middle of a rollout. There is no node agent:
 * a stand-in kubelet (HTTP client) reports new pods Running and Ready.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "../../core/client/types.ts";
import { type Pod, PODS } from "../../plugins/controllers/common/refs.ts";
import { FakeKubelet } from "../../plugins/controllers/common/testing.ts";
import { haveKubectl, startServer, tempDir, type TestServer } from "./harness.ts";
import { describeWith } from "./require.ts";

setDefaultTimeout(60_000);

const deploy = (name: string, replicas: number, image: string, extra = "") => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}
${extra}  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: web
        image: ${image}
`;

async function until<T>(what: string, f: () => T | undefined | false, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

describeWith("controllers e2e (kubectl)", haveKubectl(), "kubectl", () => {
  let dir: string;
  let s: TestServer;
  let client: Client;
  let kubelet: FakeKubelet;
  const file = (name: string, body: string) => {
    const p = join(dir, name);
    writeFileSync(p, body);
    return p;
  };
  const pods = (selector: string) =>
    s
      .k(["get", "pods", "-l", selector, "-o", "jsonpath={range .items[*]}{.metadata.name} {.metadata.deletionTimestamp}{\"\\n\"}{end}"])
      .split("\n")
      .filter((l) => l.trim() !== "" && l.trim().split(" ").length === 1)
      .map((l) => l.trim());
  /**
   * kubectl without blocking this process (spawnSync would freeze the
   * in-process stand-in kubelet while, say, `rollout status` waits for it).
   */
  const ka = async (args: string[]): Promise<string> => {
    const proc = Bun.spawn(["kubectl", ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: join(s.dir, "home"), KUBECONFIG: s.kubeconfig },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${code}: ${err}${out}`);
    return out;
  };
  const rolledOut = async (name: string) => expect(await ka(["rollout", "status", `deployment/${name}`, "--timeout=30s"])).toContain(`deployment "${name}" successfully rolled out`);
  const rsNames = (selector: string) => s.k(["get", "rs", "-l", selector, "-o", "jsonpath={.items[*].metadata.name}"]).split(" ").filter(Boolean).sort();

  beforeAll(async () => {
    dir = tempDir("skiff-controllers-e2e-");
    s = await startServer("bun", ["--preset", "server"], { dir });
    client = s.client();
    kubelet = await new FakeKubelet(client, "default").start();
  });
  afterAll(async () => {
    await kubelet?.stop();
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a Deployment of 5 keeps 5 pods: deleted pods are replaced", async () => {
    s.k(["apply", "-f", file("web.yaml", deploy("web", 5, "nginx:1.27"))]);
    await rolledOut("web");
    const first = await until("5 pods", () => {
      const p = pods("app=web");
      return p.length === 5 && p;
    });
    s.k(["delete", "pod", first[0]!, first[1]!, "--wait=false"]);
    await until("back to 5 new pods", () => {
      const p = pods("app=web");
      return p.length === 5 && !p.includes(first[0]!) && !p.includes(first[1]!);
    });
    const ready = s.k(["get", "deploy", "web", "-o", "jsonpath={.status.readyReplicas}/{.status.availableReplicas}"]);
    expect(await until("ready again", () => s.k(["get", "deploy", "web", "-o", "jsonpath={.status.availableReplicas}"]) === "5" || undefined)).toBe(true);
    expect(ready).toMatch(/^\d\/\d$/);
    // Each controller leads through its own Lease in kube-system.
    const leases = s.k(["get", "leases", "-n", "kube-system", "-o", "jsonpath={range .items[*]}{.metadata.name}={.spec.holderIdentity} {end}"]);
    for (const name of ["replicaset-controller", "deployment-controller", "garbage-collector", "namespace-controller", "event-ttl-controller"]) {
      expect(leases).toMatch(new RegExp(`${name}=\\S+_[0-9a-f-]{36}`));
    }
    expect(s.k(["describe", "rs", "-l", "app=web"])).toMatch(/SuccessfulCreate\s+.*replicaset-controller\s+Created pod: web-/);
  });

  test("a new image rolls out within maxSurge and maxUnavailable at every watched moment; rollout status returns", async () => {
    const list = await client.list<Pod>(PODS, { namespace: "default", labelSelector: "app=web" });
    const live = new Map(list.items.map((p) => [p.metadata.uid!, p]));
    let maxPods = 0;
    let minReady = Infinity;
    const stream = client.watch<Pod>(PODS, { namespace: "default", labelSelector: "app=web", resourceVersion: list.metadata.resourceVersion! });
    const watching = (async () => {
      for await (const ev of stream) {
        if (ev.type === "DELETED") live.delete(ev.object.metadata.uid!);
        else if (ev.type !== "BOOKMARK") live.set(ev.object.metadata.uid!, ev.object);
        const active = [...live.values()].filter((p) => !p.metadata.deletionTimestamp);
        maxPods = Math.max(maxPods, active.length);
        minReady = Math.min(minReady, active.filter((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")).length);
      }
    })().catch(() => undefined);
    s.k(["set", "image", "deployment/web", "web=nginx:1.28"]);
    await rolledOut("web");
    stream.close();
    await watching;
    expect(maxPods).toBeLessThanOrEqual(6); // 5 + maxSurge 1
    expect(minReady).toBeGreaterThanOrEqual(4); // 5 - maxUnavailable 1
    expect(pods("app=web").length).toBe(5);
    const history = s.k(["rollout", "history", "deployment/web"]);
    expect(history).toMatch(/^1\s/m);
    expect(history).toMatch(/^2\s/m);
  });

  test("rollout undo brings back the old ReplicaSet (same name) with the next revision", async () => {
    const before = rsNames("app=web");
    expect(before.length).toBe(2);
    const old = s.k(["get", "rs", "-l", "app=web", "-o", "jsonpath={range .items[*]}{.metadata.name}={.metadata.annotations.deployment\\.kubernetes\\.io/revision} {end}"]);
    const rev1 = /(\S+)=1(\s|$)/.exec(old)![1]!;
    expect(s.k(["rollout", "undo", "deployment/web"])).toContain("rolled back");
    await rolledOut("web");
    expect(rsNames("app=web")).toEqual(before);
    expect(s.k(["get", "rs", rev1, "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision} {.spec.replicas}"])).toBe("3 5");
    expect(s.k(["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"])).toBe("nginx:1.27");
    expect(s.k(["rollout", "history", "deployment/web"])).toMatch(/^3\s/m);
  });

  test("pause holds a template change back; resume rolls it out; restart rolls the pods", async () => {
    s.k(["rollout", "pause", "deployment/web"]);
    s.k(["set", "image", "deployment/web", "web=nginx:1.29"]);
    await Bun.sleep(500);
    expect(rsNames("app=web").length).toBe(2);
    s.k(["rollout", "resume", "deployment/web"]);
    await rolledOut("web");
    expect(rsNames("app=web").length).toBe(3);
    const before = pods("app=web");
    s.k(["rollout", "restart", "deployment/web"]);
    await rolledOut("web");
    const after = await until("old pods gone", () => {
      const p = pods("app=web");
      return p.length === 5 && p;
    });
    expect(after.filter((p) => before.includes(p))).toEqual([]);
    const described = s.k(["describe", "deployment", "web"]);
    expect(described).toMatch(/ScalingReplicaSet\s+.*deployment-controller\s+Scaled (up|down) replica set web-/);
    expect(described).toMatch(/^NewReplicaSet:\s+web-\S+ \(5\/5 replicas created\)/m);
  });

  test("kubectl scale during a rollout and the /scale subresource", async () => {
    s.k(["scale", "deployment/web", "--replicas=7"]);
    await rolledOut("web");
    await until("7 pods", () => pods("app=web").length === 7);
  });

  test("delete deployment removes its ReplicaSets and pods; --cascade=orphan leaves them", async () => {
    s.k(["delete", "deployment", "web"]);
    await until("web's ReplicaSets and pods gone", () => rsNames("app=web").length === 0 && pods("app=web").length === 0);
    s.k(["apply", "-f", file("keep.yaml", deploy("keep", 2, "nginx:1.27"))]);
    await rolledOut("keep");
    s.k(["delete", "deployment", "keep", "--cascade=orphan"]);
    await Bun.sleep(500);
    expect(rsNames("app=keep").length).toBe(1);
    expect(pods("app=keep").length).toBe(2);
    expect(s.k(["get", "rs", "-l", "app=keep", "-o", "jsonpath={.items[0].metadata.ownerReferences}"])).toBe("");
  });

  test("a ReplicationController of 3 keeps 3", async () => {
    s.k(["apply", "-f", file("rc.yaml", "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: rc\nspec:\n  replicas: 3\n  selector: {app: rc}\n  template:\n    metadata:\n      labels: {app: rc}\n    spec:\n      containers:\n      - name: c\n        image: busybox\n")]);
    const first = await until("3 pods", () => {
      const p = pods("app=rc");
      return p.length === 3 && p;
    });
    s.k(["delete", "pod", first[0]!, "--wait=false"]);
    await until("3 again", () => {
      const p = pods("app=rc");
      return p.length === 3 && !p.includes(first[0]!);
    });
    await until("status", () => s.k(["get", "rc", "rc", "-o", "jsonpath={.status.readyReplicas}"]) === "3");
  });

  test("deleting a namespace removes its contents and then the namespace", async () => {
    s.k(["create", "namespace", "scratch"]);
    s.k(["apply", "-n", "scratch", "-f", file("ns-web.yaml", deploy("inside", 2, "nginx:1.27"))]);
    s.k(["create", "configmap", "cfg", "-n", "scratch", "--from-literal=a=b"]);
    await until("pods in scratch", () => s.k(["get", "pods", "-n", "scratch", "-o", "name"]).trim().split("\n").filter(Boolean).length === 2);
    s.k(["delete", "namespace", "scratch", "--wait=false"]);
    await until("namespace gone", () => s.kubectl(["get", "namespace", "scratch"]).code !== 0);
    expect(s.kubectl(["get", "pods", "-n", "scratch", "-o", "name"]).out.trim()).toBe("");
  });

  test("a server restart in the middle of a rollout continues it: no duplicate pods, no lost progress", async () => {
    s.k(["apply", "-f", file("mid.yaml", deploy("mid", 4, "nginx:1.27"))]);
    await rolledOut("mid");
    kubelet.pause();
    s.k(["set", "image", "deployment/mid", "web=nginx:1.28"]);
    // Stuck half-way: new pods never become ready while the kubelet is paused.
    await until("rollout under way", () => {
      const out = s.k(["get", "rs", "-l", "app=mid", "-o", "jsonpath={range .items[*]}{.spec.replicas} {end}"]).trim().split(" ").map(Number);
      return out.length === 2 && out.every((n) => n > 0) && out;
    });
    const rsBefore = rsNames("app=mid");
    const podsBefore = pods("app=mid").length;
    await kubelet.stop();
    await s.stop();
    s = await startServer("bun", ["--preset", "server"], { dir });
    client = s.client();
    await Bun.sleep(1000); // the restarted controllers resync before anything else happens
    expect(rsNames("app=mid")).toEqual(rsBefore);
    expect(pods("app=mid").length).toBe(podsBefore);
    kubelet = await new FakeKubelet(client, "default").start();
    await rolledOut("mid");
    expect(rsNames("app=mid")).toEqual(rsBefore);
    expect(pods("app=mid").length).toBe(4);
    expect(s.k(["rollout", "history", "deployment/mid"])).toMatch(/^1\s.*\n2\s/m);
    expect(s.k(["get", "deploy", "mid", "-o", "jsonpath={.metadata.generation}"])).toBe("2"); // create + set image; the controller never moves it
  });
});
