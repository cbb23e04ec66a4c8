/**
 * Fuzzes request parsing: random methods, paths, query strings, content types
 * and bodies (garbage and mutated valid objects) against the API app. Nothing
 * may answer 500 or crash; every error must be a Kubernetes Status. Runs for
 * SKIFF_FUZZ_SECONDS (default 15; CI sets minutes).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createKernel, type Kernel } from "../../core/kernel.ts";

const SECONDS = Number(process.env.SKIFF_FUZZ_SECONDS ?? 15);

const segment = fc.oneof(
  fc.constantFrom("api", "apis", "v1", "apps", "namespaces", "default", "pods", "deployments", "configmaps", "status", "scale", "binding", "nodes", "x", "..", "%2F", "%zz", ""),
  fc.string({ maxLength: 12 }),
);
const path = fc.oneof(
  fc.array(segment, { maxLength: 8 }).map((s) => `/${s.join("/")}`),
  fc.tuple(fc.constantFrom("/api/v1/namespaces/default/", "/apis/apps/v1/namespaces/default/", "/api/v1/", "/apis/apps/v1/"), fc.array(segment, { maxLength: 4 })).map(
    ([p, s]) => p + s.join("/"),
  ),
);
const queryKey = fc.constantFrom("watch", "labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "resourceVersionMatch", "timeoutSeconds", "dryRun", "fieldManager", "fieldValidation", "force", "propagationPolicy", "gracePeriodSeconds", "allowWatchBookmarks", "sendInitialEvents", "includeObject");
const queryValue = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("0", "1", "true", "-1", "All", "Strict", "a=b", "a in (", "!x", "metadata.name=x", "99999999999999999999", "NotOlderThan", "Exact", "Orphan"));
const query = fc.array(fc.tuple(queryKey, queryValue), { maxLength: 4 }).map((kv) => (kv.length ? "?" + kv.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&") : ""));
const contentType = fc.constantFrom(
  "application/json",
  "application/yaml",
  "application/merge-patch+json",
  "application/json-patch+json",
  "application/strategic-merge-patch+json",
  "application/apply-patch+yaml",
  "application/vnd.kubernetes.protobuf",
  "text/plain",
  "",
);
const validish = fc.record({
  apiVersion: fc.constantFrom("v1", "apps/v1", "v2", 5 as unknown as string),
  kind: fc.constantFrom("Pod", "ConfigMap", "Deployment", "Nope"),
  metadata: fc.oneof(
    fc.record({ name: fc.oneof(fc.string({ maxLength: 10 }), fc.constant("ok")), labels: fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string({ maxLength: 5 }), fc.integer() as unknown as fc.Arbitrary<string>)) }, { requiredKeys: [] }),
    fc.anything(),
  ),
  spec: fc.anything(),
  data: fc.anything(),
}, { requiredKeys: [] });
const body = fc.oneof(
  fc.string({ maxLength: 200 }),
  validish.map((v) => JSON.stringify(v)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 64 }).map((b) => new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...b])),
);
const request = fc.record({
  method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
  path,
  query,
  contentType,
  accept: fc.constantFrom("application/json", "application/json;as=Table;v=v1;g=meta.k8s.io", "*/*", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"),
  body,
});

describe("request fuzzing", () => {
  let kernel: Kernel;
  beforeAll(async () => {
    kernel = await createKernel({ memory: true });
  });
  afterAll(async () => {
    await kernel?.stop();
  });

  test(`no 500s and only Status errors for ${SECONDS}s of random requests`, async () => {
    const deadline = Date.now() + SECONDS * 1000;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        if (Date.now() > deadline) return;
        runs++;
        const url = `http://fuzz${r.path}${r.query}`;
        let req: Request;
        try {
          req = new Request(url, {
            method: r.method,
            headers: { "content-type": r.contentType, accept: r.accept },
            ...(r.method === "GET" || r.method === "OPTIONS" ? {} : { body: r.body }),
          });
        } catch {
          return; // not a URL a client could send
        }
        const res = await kernel.api.app.fetch(req);
        if (req.url.includes("watch=") && res.status === 200 && res.body) {
          await res.body.cancel();
          return;
        }
        expect(res.status).not.toBe(500);
        if (res.status >= 400) {
          const text = await res.text();
          const status = JSON.parse(text);
          expect(status.kind).toBe("Status");
          expect(status.code).toBe(res.status);
        } else {
          await res.arrayBuffer();
        }
      }),
      { numRuns: 100_000_000, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false },
    );
    expect(runs).toBeGreaterThan(100);
  }, SECONDS * 1000 + 30_000);
});
