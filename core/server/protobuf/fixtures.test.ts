/**
 * @module Real kubectl 1.32 request bodies (captured by testdata/capture.ts)
 * decode to exactly the object kubectl prints for `--dry-run=client -o json`.
 */

import { describe, expect, test } from "bun:test";
import { decodeEnvelope, decodeKubernetesProtobuf, decodeMessage, PROTOBUF_MEDIA_TYPE, supportedMessageFor } from "./index.ts";
import fixtureDoc from "./testdata/kubectl-fixtures.json";

interface CapturedRequest {
  method: string;
  path: string;
  contentType: string;
  bodyBase64: string;
}

interface Fixture {
  name: string;
  args: string[];
  requests: CapturedRequest[];
  expected: Record<string, unknown> | null;
}

const fixtures = (fixtureDoc as { fixtures: Fixture[] }).fixtures;

function bytesOf(r: CapturedRequest): Uint8Array {
  return new Uint8Array(Buffer.from(r.bodyBase64, "base64"));
}

function protobufBody(f: Fixture): Uint8Array {
  const req = f.requests.find((r) => r.contentType === PROTOBUF_MEDIA_TYPE);
  if (!req) throw new Error(`fixture ${f.name} has no protobuf request`);
  return bytesOf(req);
}

function fixture(name: string): Fixture {
  const f = fixtures.find((x) => x.name === name);
  if (!f) throw new Error(`no fixture ${name}`);
  return f;
}

describe("kubectl create … bodies equal the --dry-run=client -o json object", () => {
  const withExpected = fixtures.filter((f) => f.expected !== null);

  test("the capture covers every create command in the brief", () => {
    const names = new Set(withExpected.map((f) => f.args[1]));
    for (const cmd of [
      "deployment",
      "configmap",
      "secret",
      "namespace",
      "service",
      "job",
      "cronjob",
      "serviceaccount",
      "role",
      "rolebinding",
      "clusterrole",
      "clusterrolebinding",
      "quota",
      "priorityclass",
      "poddisruptionbudget",
      "ingress",
    ]) {
      expect(names.has(cmd)).toBe(true);
    }
  });

  for (const f of withExpected) {
    test(f.name, () => {
      const got = decodeKubernetesProtobuf(protobufBody(f));
      // Deep equality on the serialized form: key presence, null vs absent and values all count…
      expect(JSON.parse(JSON.stringify(got))).toStrictEqual(f.expected);
      // …and the bytes match too: Go struct order is kept and map keys are sorted.
      expect(JSON.stringify(got)).toBe(JSON.stringify(f.expected));
    });
  }
});

describe("every field kubectl sent is known to the tables", () => {
  for (const f of fixtures) {
    for (const req of f.requests.filter((r) => r.contentType === PROTOBUF_MEDIA_TYPE)) {
      test(`${f.name} ${req.method}`, () => {
        const env = decodeEnvelope(bytesOf(req));
        const message = supportedMessageFor(env.apiVersion, env.kind);
        expect(message).toBeDefined();
        const unknownFields: string[] = [];
        decodeMessage(env.raw, message as string, { unknownFields });
        expect(unknownFields).toEqual([]);
      });
    }
  }
});

describe("bodies without a dry-run form", () => {
  test("create token sa", () => {
    expect(decodeKubernetesProtobuf(protobufBody(fixture("token")))).toStrictEqual({
      kind: "TokenRequest",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { creationTimestamp: null },
      spec: { audiences: null, expirationSeconds: null, boundObjectRef: null },
      status: { token: "", expirationTimestamp: null },
    });
  });

  test("create token with --duration, --audience and a bound object", () => {
    expect(decodeKubernetesProtobuf(protobufBody(fixture("token-options")))).toStrictEqual({
      kind: "TokenRequest",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { creationTimestamp: null },
      spec: {
        audiences: ["https://example.com"],
        expirationSeconds: 600,
        boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p1", uid: "55555555-5555-5555-5555-555555555555" },
      },
      status: { token: "", expirationTimestamp: null },
    });
  });

  test("drain --disable-eviction sends DeleteOptions (kind DeleteOptions, apiVersion v1) on DELETE", () => {
    const f = fixture("drain-delete");
    const del = f.requests.find((r) => r.method === "DELETE");
    expect(del?.contentType).toBe(PROTOBUF_MEDIA_TYPE);
    expect(decodeKubernetesProtobuf(bytesOf(del as CapturedRequest))).toStrictEqual({
      kind: "DeleteOptions",
      apiVersion: "v1",
      gracePeriodSeconds: 30,
    });
  });

  test("drain with eviction: kubectl 1.32 posts the Eviction as JSON (recorded as evidence)", () => {
    const post = fixture("drain-evict").requests.find((r) => r.method === "POST");
    expect(post?.contentType).toBe("application/json");
    expect(JSON.parse(Buffer.from(post?.bodyBase64 ?? "", "base64").toString())).toStrictEqual({
      kind: "Eviction",
      apiVersion: "policy/v1",
      metadata: { name: "p1", namespace: "default", creationTimestamp: null },
      deleteOptions: {},
    });
  });

  test("debug node/n1 creates a host-namespaced Pod", () => {
    const pod = decodeKubernetesProtobuf(protobufBody(fixture("debug-node"))) as {
      kind: string;
      apiVersion: string;
      metadata: { name: string; creationTimestamp: unknown };
      spec: { containers: unknown[] };
      status: unknown;
    };
    expect(pod.kind).toBe("Pod");
    expect(pod.apiVersion).toBe("v1");
    expect(pod.metadata.name).toMatch(/^node-debugger-n1-/);
    expect(pod.metadata.creationTimestamp).toBeNull();
    expect(pod.spec).toMatchObject({
      nodeName: "n1",
      restartPolicy: "Never",
      hostNetwork: true,
      hostPID: true,
      hostIPC: true,
      tolerations: [{ operator: "Exists" }],
      volumes: [{ name: "host-root", hostPath: { path: "/" } }],
    });
    expect(pod.spec.containers[0]).toMatchObject({
      name: "debugger",
      image: "busybox",
      resources: {},
      volumeMounts: [{ name: "host-root", mountPath: "/host" }],
    });
    expect(pod.status).toStrictEqual({});
  });
});
