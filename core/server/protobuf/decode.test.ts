/**
 * @module Decoder semantics on hand-built bytes: wrapper types (Time,
 * MicroTime, Duration, IntOrString, Quantity, FieldsV1), Go omitempty/pointer
 * presence, maps, packed fields, merging, unknown fields and the envelope.
 */

import { describe, expect, test } from "bun:test";
import { decodeKubernetesProtobuf, decodeMessage } from "./index.ts";
import { goDuration } from "./special.ts";
import { envelope, msg } from "./testdata/proto-writer.ts";
import { thrownApiError } from "../../../test/fixtures/api-error.ts";

const JAN_2026 = 1767225600; // 2026-01-01T00:00:00Z

const apiError = thrownApiError;

describe("well-known wrapper types", () => {
  test("Time is RFC 3339 in seconds; empty, absent and Go's zero time are null", () => {
    const meta = decodeMessage(
      msg((w) =>
        w
          .string(1, "x")
          .message(8, (t) => t.varint(1, JAN_2026).varint(2, 999))
          .bytes(9, []),
      ),
      "meta.v1.ObjectMeta",
    );
    expect(meta).toStrictEqual({ name: "x", creationTimestamp: "2026-01-01T00:00:00Z", deletionTimestamp: null });
    expect(decodeMessage(new Uint8Array(0), "meta.v1.ObjectMeta")).toStrictEqual({ creationTimestamp: null });
    const zero = decodeMessage(msg((w) => w.message(8, (t) => t.varint(1, -62135596800n))), "meta.v1.ObjectMeta");
    expect(zero.creationTimestamp).toBeNull();
    const epoch = decodeMessage(msg((w) => w.message(8, (t) => t.varint(1, 0).varint(2, 0))), "meta.v1.ObjectMeta");
    expect(epoch.creationTimestamp).toBe("1970-01-01T00:00:00Z");
  });

  test("MicroTime keeps six fractional digits (truncated)", () => {
    const ev = decodeMessage(msg((w) => w.message(10, (t) => t.varint(1, JAN_2026).varint(2, 123456789))), "core.v1.Event");
    expect(ev.eventTime).toBe("2026-01-01T00:00:00.123456Z");
    expect(decodeMessage(new Uint8Array(0), "core.v1.Event").eventTime).toBeNull();
  });

  test("Duration renders like Go's time.Duration.String", () => {
    expect(goDuration(0n)).toBe("0s");
    expect(goDuration(300_000_000_000n)).toBe("5m0s");
    expect(goDuration(1_500_000_000n)).toBe("1.5s");
    expect(goDuration(3_723_000_000_000n)).toBe("1h2m3s");
    expect(goDuration(1_500n)).toBe("1.5µs");
    expect(goDuration(2_000_000n)).toBe("2ms");
    expect(goDuration(999n)).toBe("999ns");
    expect(goDuration(-90_000_000_000n)).toBe("-1m30s");
  });

  test("IntOrString is a number or a string; an impossible type is a 400", () => {
    const spec = decodeMessage(
      msg((w) =>
        w.message(1, (m) => m.varint(1, 0).varint(2, 3)).message(3, (m) => m.varint(1, 1).string(3, "25%")),
      ),
      "policy.v1.PodDisruptionBudgetSpec",
    );
    expect(spec).toStrictEqual({ minAvailable: 3, maxUnavailable: "25%" });
    const bad = apiError(() => decodeMessage(msg((w) => w.message(1, (m) => m.varint(1, 7))), "policy.v1.PodDisruptionBudgetSpec"));
    expect(bad.code).toBe(400);
  });

  test("ServicePort.targetPort is a non-pointer IntOrString: absent means 0", () => {
    expect(decodeMessage(msg((w) => w.varint(3, 80)), "core.v1.ServicePort")).toStrictEqual({ port: 80, targetPort: 0 });
  });

  test("Quantity maps render as strings; absent is \"0\"; garbage is a 400", () => {
    const spec = decodeMessage(
      msg((w) =>
        w
          .message(1, (e) => e.string(1, "pods").message(2, (q) => q.string(1, "10")))
          .message(1, (e) => e.string(1, "cpu").message(2, (q) => q.string(1, "1500m")))
          .message(1, (e) => e.string(1, "memory").bytes(2, [])),
      ),
      "core.v1.ResourceQuotaSpec",
    );
    expect(spec).toStrictEqual({ hard: { cpu: "1500m", memory: "0", pods: "10" } });
    expect(Object.keys(spec.hard as object)).toEqual(["cpu", "memory", "pods"]);
    const bad = apiError(() =>
      decodeMessage(msg((w) => w.message(1, (e) => e.string(1, "cpu").message(2, (q) => q.string(1, "lots")))), "core.v1.ResourceQuotaSpec"),
    );
    expect(bad.code).toBe(400);
  });

  test("managedFields: fieldsV1 raw JSON is inlined, time is RFC 3339", () => {
    const meta = decodeMessage(
      msg((w) =>
        w.message(17, (m) =>
          m
            .string(1, "kubectl")
            .string(2, "Update")
            .string(3, "v1")
            .message(4, (t) => t.varint(1, JAN_2026))
            .string(6, "FieldsV1")
            .message(7, (f) => f.string(1, '{"f:data":{"f:k":{}}}')),
        ),
      ),
      "meta.v1.ObjectMeta",
    );
    expect(meta.managedFields).toStrictEqual([
      {
        manager: "kubectl",
        operation: "Update",
        apiVersion: "v1",
        time: "2026-01-01T00:00:00Z",
        fieldsType: "FieldsV1",
        fieldsV1: { "f:data": { "f:k": {} } },
      },
    ]);
    const bad = apiError(() => decodeMessage(msg((w) => w.message(17, (m) => m.message(7, (f) => f.string(1, "{nope")))), "meta.v1.ObjectMeta"));
    expect(bad.code).toBe(400);
  });

  test("authentication/v1 ExtraValue renders as an array", () => {
    const user = decodeMessage(
      msg((w) => w.string(1, "u").message(4, (e) => e.string(1, "scopes").message(2, (v) => v.string(1, "a").string(1, "b")))),
      "authentication.v1.UserInfo",
    );
    expect(user).toStrictEqual({ username: "u", extra: { scopes: ["a", "b"] } });
  });
});

describe("Go JSON presence rules", () => {
  test("omitempty scalars vanish at zero, pointers keep zero/false, required fields always appear", () => {
    const c = decodeMessage(
      msg((w) =>
        w
          .string(2, "")
          .varint(16, false)
          .message(15, (s) => s.varint(2, false).varint(4, 0)),
      ),
      "core.v1.Container",
    );
    expect(c).toStrictEqual({ name: "", resources: {}, securityContext: { privileged: false, runAsUser: 0 } });
  });

  test("pointer-without-omitempty fields and nil required lists are null", () => {
    expect(decodeMessage(new Uint8Array(0), "authentication.v1.TokenRequestSpec")).toStrictEqual({
      audiences: null,
      expirationSeconds: null,
      boundObjectRef: null,
    });
    expect(decodeMessage(new Uint8Array(0), "apps.v1.DeploymentSpec")).toStrictEqual({
      selector: null,
      template: { metadata: { creationTimestamp: null }, spec: { containers: null } },
      strategy: {},
    });
  });

  test("inline structs merge into the parent (Volume.volumeSource, Probe.handler, IngressRule)", () => {
    const vol = decodeMessage(msg((w) => w.string(1, "v").message(2, (s) => s.message(2, () => undefined))), "core.v1.Volume");
    expect(vol).toStrictEqual({ name: "v", emptyDir: {} });
    const probe = decodeMessage(msg((w) => w.message(1, (h) => h.message(3, (t) => t.message(1, (p) => p.varint(2, 80)))).varint(4, 5)), "core.v1.Probe");
    expect(probe).toStrictEqual({ tcpSocket: { port: 80 }, periodSeconds: 5 });
  });

  test("bytes maps are base64 (Secret.data); string maps are sorted by key", () => {
    const secret = decodeMessage(
      msg((w) =>
        w
          .message(2, (e) => e.string(1, "z").bytes(2, [0x00, 0xff, 0xfe]))
          .message(2, (e) => e.string(1, "a").bytes(2, []))
          .string(3, "Opaque"),
      ),
      "core.v1.Secret",
    );
    expect(secret).toStrictEqual({ metadata: { creationTimestamp: null }, data: { a: "", z: "AP/+" }, type: "Opaque" });
  });
});

describe("wire-format semantics (gogo-protobuf compatible)", () => {
  test("the last scalar wins; repeated message occurrences merge; repeated fields append", () => {
    const meta = decodeMessage(
      msg((w) => w.string(1, "first").string(1, "second").entry(11, "a", "1").entry(11, "b", "2").entry(11, "a", "3")),
      "meta.v1.ObjectMeta",
    );
    expect(meta).toStrictEqual({ name: "second", creationTimestamp: null, labels: { a: "3", b: "2" } });
    const pod = decodeMessage(
      msg((w) => w.message(1, (m) => m.string(1, "p")).message(1, (m) => m.string(3, "ns"))),
      "core.v1.Pod",
    );
    expect(pod.metadata).toStrictEqual({ name: "p", namespace: "ns", creationTimestamp: null });
  });

  test("repeated numerics are accepted packed and unpacked", () => {
    const packed = decodeMessage(msg((w) => w.bytes(4, [0x01, 0xac, 0x02])), "core.v1.PodSecurityContext");
    const unpacked = decodeMessage(msg((w) => w.varint(4, 1).varint(4, 300)), "core.v1.PodSecurityContext");
    expect(packed).toStrictEqual({ supplementalGroups: [1, 300] });
    expect(unpacked).toStrictEqual(packed);
  });

  test("int32 takes the low 32 bits of a 10-byte varint (negative values)", () => {
    expect(decodeMessage(msg((w) => w.varint(3, -1)), "core.v1.ServicePort")).toStrictEqual({ port: -1, targetPort: 0 });
  });

  test("unknown fields of every wire type, groups included, are skipped", () => {
    const unknown: string[] = [];
    const ns = decodeMessage(
      msg((w) =>
        w
          .varint(90, 5)
          .fixed64(91, [1, 2, 3, 4, 5, 6, 7, 8])
          .fixed32(92, [1, 2, 3, 4])
          .string(93, "x")
          .key(94, 3)
          .varint(1, 1)
          .key(94, 4)
          .message(1, (m) => m.string(1, "n")),
      ),
      "core.v1.Namespace",
      { unknownFields: unknown },
    );
    expect(ns).toStrictEqual({ metadata: { name: "n", creationTimestamp: null }, spec: {}, status: {} });
    expect(unknown).toEqual(["core.v1.Namespace#90", "core.v1.Namespace#91", "core.v1.Namespace#92", "core.v1.Namespace#93", "core.v1.Namespace#94"]);
  });

  test("invalid UTF-8 becomes U+FFFD like Go's JSON encoder; a BOM is kept", () => {
    const meta = decodeMessage(msg((w) => w.bytes(1, [0x61, 0xff, 0x62]).bytes(3, [0xef, 0xbb, 0xbf, 0x6e])), "meta.v1.ObjectMeta");
    expect(meta.name).toBe("a\ufffdb");
    expect(meta.namespace).toBe("\ufeffn");
  });

  test("a \"__proto__\" map key is an ordinary own key", () => {
    const meta = decodeMessage(msg((w) => w.entry(11, "__proto__", "x")), "meta.v1.ObjectMeta");
    const labels = meta.labels as Record<string, unknown>;
    expect(Object.keys(labels)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
    expect(JSON.stringify(labels)).toBe('{"__proto__":"x"}');
  });

  for (const [what, bytes] of [
    ["a known field with the wrong wire type", msg((w) => w.varint(1, 1))],
    ["a truncated length", new Uint8Array([0x0a, 0x05, 0x61])],
    ["a truncated varint", new Uint8Array([0x38, 0xff])],
    ["field number 0", new Uint8Array([0x02, 0x00])],
    ["wire type 7", new Uint8Array([0x0f])],
    ["an unterminated group", new Uint8Array([0xf3, 0x05])],
    ["a stray end group", new Uint8Array([0xf4, 0x05])],
    ["an 11-byte varint", new Uint8Array([0x38, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
  ] as const) {
    test(`${what} is a 400`, () => {
      expect(apiError(() => decodeMessage(bytes, "meta.v1.ObjectMeta")).code).toBe(400);
    });
  }

  test("an unknown message name is a 400", () => {
    expect(apiError(() => decodeMessage(new Uint8Array(0), "core.v1.Nope")).code).toBe(400);
  });
});

describe("envelope", () => {
  const nsRaw = msg((w) => w.message(1, (m) => m.string(1, "n")));

  test("decodes and sets kind/apiVersion from the envelope", () => {
    expect(decodeKubernetesProtobuf(envelope("v1", "Namespace", nsRaw))).toStrictEqual({
      kind: "Namespace",
      apiVersion: "v1",
      metadata: { name: "n", creationTimestamp: null },
      spec: {},
      status: {},
    });
  });

  test("an Eviction carrying empty DeleteOptions matches kubectl's JSON form", () => {
    const raw = msg((w) => w.message(1, (m) => m.string(1, "p1").string(3, "default")).bytes(2, []));
    expect(decodeKubernetesProtobuf(envelope("policy/v1", "Eviction", raw))).toStrictEqual({
      kind: "Eviction",
      apiVersion: "policy/v1",
      metadata: { name: "p1", namespace: "default", creationTimestamp: null },
      deleteOptions: {},
    });
  });

  test("DeleteOptions decodes under meta.k8s.io/v1, v1 and any group-version", () => {
    const raw = msg((w) => w.varint(1, 0).string(4, "Foreground").string(5, "All"));
    for (const apiVersion of ["meta.k8s.io/v1", "v1", "apps/v1"]) {
      expect(decodeKubernetesProtobuf(envelope(apiVersion, "DeleteOptions", raw))).toStrictEqual({
        kind: "DeleteOptions",
        apiVersion,
        gracePeriodSeconds: 0,
        propagationPolicy: "Foreground",
        dryRun: ["All"],
      });
    }
  });

  test("an unknown (apiVersion, kind) is a 415 UnsupportedMediaType", () => {
    const err = apiError(() => decodeKubernetesProtobuf(envelope("example.com/v1", "Widget", nsRaw)));
    expect(err.code).toBe(415);
    expect(err.reason).toBe("UnsupportedMediaType");
    expect(err.message).toContain("example.com/v1, Kind=Widget");
  });

  test("a missing kind or apiVersion is a 400 unless defaults supply it", () => {
    expect(apiError(() => decodeKubernetesProtobuf(envelope("v1", "", nsRaw))).code).toBe(400);
    expect(apiError(() => decodeKubernetesProtobuf(envelope("", "Namespace", nsRaw))).code).toBe(400);
    const ok = decodeKubernetesProtobuf(envelope("", "", nsRaw), { apiVersion: "v1", kind: "Namespace" });
    expect(ok).toMatchObject({ kind: "Namespace", apiVersion: "v1" });
  });

  test("bad magic, bare magic and an empty body are 400s", () => {
    expect(apiError(() => decodeKubernetesProtobuf(new Uint8Array(0))).code).toBe(400);
    expect(apiError(() => decodeKubernetesProtobuf(new TextEncoder().encode('{"kind":"Pod"}'))).code).toBe(400);
    expect(apiError(() => decodeKubernetesProtobuf(new Uint8Array([0x6b, 0x38, 0x73, 0x00]))).code).toBe(400);
  });
});

describe("server adapter", () => {
  test("decodeProtobufBody fills a missing GVK from the target type, never overrides the envelope's", async () => {
    const { decodeProtobufBody } = await import("./index.ts");
    const raw = msg((w) => w.message(1, (m) => m.string(1, "d")));
    const deploy = { group: "apps", version: "v1", kind: "Deployment" };
    expect(decodeProtobufBody(envelope("", "", raw), deploy)).toMatchObject({ kind: "Deployment", apiVersion: "apps/v1", metadata: { name: "d" } });
    expect(decodeProtobufBody(envelope("v1", "DeleteOptions", msg((w) => w.varint(1, 5))), deploy)).toStrictEqual({
      kind: "DeleteOptions",
      apiVersion: "v1",
      gracePeriodSeconds: 5,
    });
    expect(decodeProtobufBody(envelope("", "", raw), { group: "", version: "v1", kind: "Namespace" })).toMatchObject({ kind: "Namespace", apiVersion: "v1" });
  });
});
