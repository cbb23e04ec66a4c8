/**
 * The API suite, over HTTPS as the admin (plain HTTP with
 * SKIFF_E2E_INSECURE=1), against `skiff server` on Bun, Node and Deno: CRUD, lists with paging and selectors, watch streaming, the patch
 * types, tables, discovery, and bad input answered with the right Status.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type Runtime, startServer, type TestServer } from "./harness.ts";

setDefaultTimeout(60_000);

const RUNTIMES: Runtime[] = ["bun", "node", "deno"];

function cm(name: string, extra: Record<string, unknown> = {}) {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels: { suite: "api" } }, data: { k: "v" }, ...extra };
}

for (const runtime of RUNTIMES) {
  describe(`API on ${runtime}`, () => {
    let s: TestServer;
    const req = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      s.fetch(path, {
        method,
        headers: { "content-type": "application/json", ...headers },
        ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
      });
    const status = async (r: Response) => ({ code: r.status, body: (await r.json()) as Record<string, any> });
    const base = "/api/v1/namespaces/default/configmaps";

    beforeAll(async () => {
      // The API on its own: no node agent, and no scheduler racing the binding tests.
      s = await startServer(runtime, ["--history-revisions", "10", "--preset", "server", "--disable", "scheduler"]);
    });
    afterAll(async () => {
      await s?.stop();
    });

    test("version, health, discovery, openapi, metrics", async () => {
      expect(((await (await req("GET", "/version")).json()) as { minor: string }).minor).toBe("32");
      expect(await (await req("GET", "/readyz")).text()).toBe("ok");
      const agg = await req("GET", "/apis", undefined, { accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList" });
      expect(agg.headers.get("content-type")).toContain("as=APIGroupDiscoveryList");
      const groups = ((await agg.json()) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name);
      expect(groups).toContain("apps");
      const v1 = (await (await req("GET", "/api/v1")).json()) as { resources: { name: string }[] };
      expect(v1.resources.map((r) => r.name)).toContain("pods/status");
      const oa = (await (await req("GET", "/openapi/v3")).json()) as { paths: Record<string, { serverRelativeURL: string }> };
      const doc = (await (await req("GET", oa.paths["apis/apps/v1"]!.serverRelativeURL)).json()) as { paths: Record<string, any> };
      const patchOp = doc.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"].patch;
      expect(patchOp.parameters.map((p: { name: string }) => p.name)).toContain("fieldValidation");
      await req("GET", base);
      expect(await (await req("GET", "/metrics")).text()).toContain('apiserver_request_total{verb="list"');
    });

    test("create, get, update with conflicts, delete", async () => {
      const created = await status(await req("POST", base, cm("a")));
      expect(created.code).toBe(201);
      expect(Object.keys(created.body).slice(0, 2)).toEqual(["kind", "apiVersion"]);
      const dup = await status(await req("POST", base, cm("a")));
      expect(dup.body).toMatchObject({ kind: "Status", reason: "AlreadyExists", code: 409 });
      const upd = { ...created.body, data: { k: "w" } };
      expect((await req("PUT", `${base}/a`, upd)).status).toBe(200);
      const stale = await status(await req("PUT", `${base}/a`, upd));
      expect(stale.body).toMatchObject({ reason: "Conflict", code: 409 });
      expect(stale.body.message).toContain('configmaps "a": the object has been modified');
      const gen = await status(await req("POST", base, { metadata: { generateName: "gen-" } }));
      expect(gen.body.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
      const dry = await status(await req("POST", `${base}?dryRun=All`, cm("dry")));
      expect(dry.code).toBe(201);
      expect((await req("GET", `${base}/dry`)).status).toBe(404);
      const del = await status(await req("DELETE", `${base}/a`));
      expect(del.body).toMatchObject({ kind: "Status", status: "Success" });
      expect((await status(await req("GET", `${base}/a`))).body).toMatchObject({ reason: "NotFound", code: 404, message: 'configmaps "a" not found' });
    });

    test("lists: paging from one revision, selectors, tables", async () => {
      for (let i = 0; i < 7; i++) await req("POST", base, cm(`p${i}`, { metadata: { name: `p${i}`, labels: { suite: "api", n: String(i % 2) } } }));
      const first = (await (await req("GET", `${base}?limit=3&labelSelector=suite%3Dapi`)).json()) as any;
      expect(first.items).toHaveLength(3);
      expect(first.metadata.continue).toBeString();
      await req("DELETE", `${base}/p5`);
      const names: string[] = first.items.map((i: any) => i.metadata.name);
      let cont = first.metadata.continue;
      while (cont) {
        const page = (await (await req("GET", `${base}?limit=3&labelSelector=suite%3Dapi&continue=${encodeURIComponent(cont)}`)).json()) as any;
        expect(page.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
        names.push(...page.items.map((i: any) => i.metadata.name));
        cont = page.metadata.continue;
      }
      expect(names.filter((n) => n.startsWith("p"))).toEqual(["p0", "p1", "p2", "p3", "p4", "p5", "p6"]);
      const odd = (await (await req("GET", `${base}?labelSelector=n%20in%20(1)`)).json()) as any;
      expect(odd.items.map((i: any) => i.metadata.name)).toEqual(["p1", "p3"]);
      const byField = (await (await req("GET", `${base}?fieldSelector=metadata.name%3Dp2`)).json()) as any;
      expect(byField.items.map((i: any) => i.metadata.name)).toEqual(["p2"]);
      const table = (await (await req("GET", `${base}?limit=2`, undefined, { accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" })).json()) as any;
      expect(table.kind).toBe("Table");
      expect(table.columnDefinitions.map((c: any) => c.name)).toEqual(["Name", "Data", "Age"]);
      expect(table.rows[0].object.kind).toBe("PartialObjectMetadata");
    });

    test("watch streams events, honours timeoutSeconds, and reports 410 for compacted revisions", async () => {
      const rv = ((await (await req("GET", base)).json()) as any).metadata.resourceVersion;
      const r = await s.fetch(`${base}?watch=true&resourceVersion=${rv}&timeoutSeconds=3`);
      expect(r.headers.get("content-type")).toBe("application/json");
      const reader = r.body!.getReader();
      await req("POST", base, cm("w1"));
      await req("DELETE", `${base}/w1`);
      let text = "";
      while ((text.match(/\n\{/g) ?? []).length < 2 || !text.endsWith("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      const events = text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
      expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([["ADDED", "w1"], ["DELETED", "w1"]]);
      const t0 = Date.now();
      while (!(await reader.read()).done) {}
      expect(Date.now() - t0).toBeLessThan(5000);
      // History is 10 revisions here: once compaction has run, revision 1 is gone.
      let last: any;
      for (let i = 0; i < 100; i++) {
        const old = await (await s.fetch(`${base}?watch=true&resourceVersion=1&timeoutSeconds=1`)).text();
        last = JSON.parse(old.trim().split("\n").pop() || "null");
        if (last?.type === "ERROR") break;
        await Bun.sleep(100);
      }
      expect(last).toMatchObject({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } });
    });

    test("patch: json, merge, strategic, apply, and an unknown type", async () => {
      await req("POST", base, cm("pt"));
      const j = await req("PATCH", `${base}/pt`, [{ op: "add", path: "/data/j", value: "1" }], { "content-type": "application/json-patch+json" });
      expect(j.status).toBe(200);
      const m = await req("PATCH", `${base}/pt`, { data: { k: null, m: "2" } }, { "content-type": "application/merge-patch+json" });
      expect(((await m.json()) as any).data).toEqual({ j: "1", m: "2" });
      const sm = await req("PATCH", `${base}/pt`, { metadata: { labels: { s: "3" } } }, { "content-type": "application/strategic-merge-patch+json" });
      expect(((await sm.json()) as any).metadata.labels).toEqual({ suite: "api", s: "3" });
      const applied = await req("PATCH", `${base}/ap?fieldManager=suite`, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ap\ndata:\n  x: y\n", { "content-type": "application/apply-patch+yaml" });
      expect(applied.status).toBe(201);
      const noManager = await status(await req("PATCH", `${base}/ap`, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ap\n", { "content-type": "application/apply-patch+yaml" }));
      expect(noManager.body).toMatchObject({ code: 422, reason: "Invalid" });
      const unknown = await status(await req("PATCH", `${base}/pt`, "{}", { "content-type": "application/x-nope" }));
      expect(unknown.body).toMatchObject({ code: 415, reason: "UnsupportedMediaType" });
    });

    test("multi-version kinds read back in the version asked for", async () => {
      const hpa = {
        apiVersion: "autoscaling/v1",
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "h" },
        spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 60 },
      };
      expect((await req("POST", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers", hpa)).status).toBe(201);
      const v2 = (await (await req("GET", "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/h")).json()) as any;
      expect(v2.apiVersion).toBe("autoscaling/v2");
      expect(v2.spec.metrics).toEqual([{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } } }]);
      const v1 = (await (await req("GET", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/h")).json()) as any;
      expect(v1.apiVersion).toBe("autoscaling/v1");
      expect(v1.spec.targetCPUUtilizationPercentage).toBe(60);
      const list = (await (await req("GET", "/apis/autoscaling/v1/horizontalpodautoscalers")).json()) as any;
      expect(list.items.map((i: any) => [i.apiVersion, i.spec.targetCPUUtilizationPercentage])).toEqual([["autoscaling/v1", 60]]);
      const ev = {
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: { name: "e1" },
        eventTime: "2026-01-01T00:00:00.000000Z",
        reportingController: "skiff.dev/test",
        reportingInstance: "t1",
        action: "Testing",
        reason: "Tested",
        note: "hello",
        type: "Normal",
        regarding: { kind: "Pod", namespace: "default", name: "p" },
      };
      const created = await req("POST", "/apis/events.k8s.io/v1/namespaces/default/events", ev);
      expect(created.status).toBe(201);
      const core = (await (await req("GET", "/api/v1/namespaces/default/events/e1")).json()) as any;
      expect(core).toMatchObject({ apiVersion: "v1", kind: "Event", message: "hello", involvedObject: { kind: "Pod", name: "p" } });
    });

    test("a Job's generated selector carries its own uid", async () => {
      const job = { apiVersion: "batch/v1", kind: "Job", metadata: { name: "j" }, spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } } } };
      const created = (await (await req("POST", "/apis/batch/v1/namespaces/default/jobs", job)).json()) as any;
      expect(created.spec.selector.matchLabels["batch.kubernetes.io/controller-uid"]).toBe(created.metadata.uid);
      expect(created.spec.template.metadata.labels["batch.kubernetes.io/controller-uid"]).toBe(created.metadata.uid);
    });

    test("pods/binding and pods/eviction", async () => {
      const pods = "/api/v1/namespaces/default/pods";
      await req("POST", pods, { metadata: { name: "bp", labels: { app: "pdb" } }, spec: { containers: [{ name: "c", image: "i" }] } });
      const bind = await req("POST", `${pods}/bp/binding`, { apiVersion: "v1", kind: "Binding", metadata: { name: "bp" }, target: { kind: "Node", name: "n1" } });
      expect(bind.status).toBe(201);
      const bound = (await (await req("GET", `${pods}/bp`)).json()) as any;
      expect(bound.spec.nodeName).toBe("n1");
      expect(bound.status.conditions.find((c: any) => c.type === "PodScheduled").status).toBe("True");
      const again = await status(await req("POST", `${pods}/bp/binding`, { target: { kind: "Node", name: "n2" } }));
      expect(again.body).toMatchObject({ code: 409, reason: "Conflict" });
      await req("POST", "/apis/policy/v1/namespaces/default/poddisruptionbudgets", { metadata: { name: "pdb" }, spec: { minAvailable: 1, selector: { matchLabels: { app: "pdb" } } } });
      const blocked = await status(await req("POST", `${pods}/bp/eviction`, { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "bp" } }));
      expect(blocked.body).toMatchObject({ code: 429, reason: "TooManyRequests" });
      await req("DELETE", "/apis/policy/v1/namespaces/default/poddisruptionbudgets/pdb");
      const evicted = await req("POST", `${pods}/bp/eviction`, { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "bp" }, deleteOptions: { gracePeriodSeconds: 0 } });
      expect(evicted.status).toBe(201);
      expect((await req("GET", `${pods}/bp`)).status).toBe(404);
    });

    test("bad input gets the right Status and writes nothing", async () => {
      const cases: [string, string, unknown, Record<string, string>, number, string][] = [
        ["POST", base, "{not json", {}, 400, "BadRequest"],
        ["POST", base, "a: [b", { "content-type": "application/yaml" }, 400, "BadRequest"],
        ["POST", base, { ...cm("x"), apiVersion: "v2" }, {}, 400, "BadRequest"],
        ["POST", base, { ...cm("x"), kind: "Secret" }, {}, 400, "BadRequest"],
        ["POST", `${base}?fieldValidation=Strict`, { ...cm("x"), bogus: 1 }, {}, 400, "BadRequest"],
        ["POST", base, cm("Bad_Name"), {}, 422, "Invalid"],
        ["POST", base, { ...cm("x"), metadata: { name: "x", labels: { "bad key": "v" } } }, {}, 422, "Invalid"],
        ["POST", base, { ...cm("x"), metadata: { name: "x", namespace: "other" } }, {}, 400, "BadRequest"],
        ["POST", base, cm("x"), { "content-type": "text/plain" }, 415, "UnsupportedMediaType"],
        ["POST", base, JSON.stringify({ ...cm("big"), data: { k: "x".repeat(3 * 1024 * 1024) } }), {}, 413, "RequestEntityTooLarge"],
        ["GET", "/api/v1/namespaces/default/nopes", undefined, {}, 404, "NotFound"],
        ["GET", `${base}?labelSelector=a%20in%20(`, undefined, {}, 400, "BadRequest"],
        ["GET", `${base}?fieldSelector=spec.nope%3D1`, undefined, {}, 400, "BadRequest"],
        ["GET", `${base}?resourceVersion=abc`, undefined, {}, 400, "BadRequest"],
        ["POST", "/api/v1/namespaces/missing/configmaps", cm("x"), {}, 404, "NotFound"],
      ];
      for (const [method, path, body, headers, code, reason] of cases) {
        const r = await status(await req(method, path, body, headers));
        expect([method, path, r.code, r.body.reason]).toEqual([method, path, code, reason]);
        expect(r.body.kind).toBe("Status");
      }
      const warn = await req("POST", `${base}?fieldValidation=Warn`, { ...cm("warned"), bogus: 1 });
      expect(warn.headers.get("warning")).toContain('unknown field \\"bogus\\"');
      await req("DELETE", `${base}/warned`);
      // Nothing the bad requests named was written, half-way or at all. (The global
      // revision moves on its own: controllers renew their leases in the background.)
      const names = ((await (await req("GET", base)).json()) as any).items.map((i: any) => i.metadata.name);
      for (const n of ["x", "Bad_Name", "big", "warned"]) expect(names).not.toContain(n);
      const missing = await req("GET", "/api/v1/namespaces/missing/configmaps/x");
      expect(missing.status).toBe(404);
    });
  });
}
