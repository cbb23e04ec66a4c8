/** @module Tests for stringifyObject: always exactly JSON.stringify's text. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { updateManagedFields } from "../api/patch/index.ts";
import type { KubeObject } from "../api/meta.ts";
import { builtinTypes } from "../types/index.ts";
import { stringifyObject } from "./object-json.ts";

function both(o: unknown): [string | undefined, string | undefined] {
  const run = (f: (x: unknown) => string | undefined) => {
    try {
      return f(o);
    } catch (e) {
      return `threw ${String(e)}`;
    }
  };
  return [run((x) => JSON.stringify(x)), run((x) => stringifyObject(x as KubeObject))];
}

const pod = builtinTypes().find((t) => t.plural === "pods")!;

function createdPod(i: number): KubeObject {
  const p = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `p${i}`, namespace: "default", labels: { app: "web" }, uid: "u" },
    spec: {
      containers: [
        { name: "web", image: "nginx", ports: [{ containerPort: 80, protocol: "TCP" }], env: [{ name: "A", value: "1" }] },
      ],
    },
  } as KubeObject;
  p.metadata.managedFields = updateManagedFields({
    live: undefined,
    updated: p,
    schema: pod.schema,
    manager: "m",
    operation: "Update",
    apiVersion: "v1",
    now: "2026-01-01T00:00:00Z",
  });
  p.metadata.resourceVersion = "7";
  return p;
}

describe("stringifyObject", () => {
  test("a created object with managedFields (k: keys that need escaping)", () => {
    const p = createdPod(1);
    expect(JSON.stringify(p)).toContain('k:{\\"name\\":\\"web\\"}');
    const [a, b] = both(p);
    expect(b).toBe(a);
  });

  test("a created object serialized before its managedFields tree is read: the text the create wrote, unread", () => {
    for (let i = 0; i < 3; i++) {
      const p = createdPod(i);
      const first = stringifyObject(p); // the entry's fieldsV1 still pending (api/fields-v1-text.ts)
      expect(first).toBe(JSON.stringify(p)); // JSON.stringify reads (parses) it
      expect(stringifyObject(p)).toBe(first);
    }
  });

  test("objects without managedFields, and odd ones, are JSON.stringify's", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const odd: unknown[] = [
      {},
      { metadata: {} },
      { metadata: { managedFields: [] } },
      { metadata: { managedFields: [{ fieldsV1: null }] } },
      { metadata: { managedFields: [{ fieldsV1: { "f:a": [] } }] } },
      { metadata: { managedFields: [{ fieldsV1: cyclic }] } },
      { metadata: { managedFields: [{ fieldsV1: {}, toJSON: () => "x" }] } },
      { "1": 1, metadata: { "0": 0, managedFields: [{ time: new Date(0), fieldsV1: { ".": {} } }], z: undefined }, a: () => 1 },
      Object.assign(Object.create(null), { metadata: { managedFields: [{ fieldsV1: {} }] } }),
    ];
    for (const o of odd) {
      const [a, b] = both(o);
      expect(b).toBe(a);
    }
  });

  test("random objects", () => {
    const keys = fc.constantFrom("a", "f:x", 'k:{"name":"web"}', ".", "0", "1", "__proto__", "toJSON", "metadata", "managedFields", "fieldsV1", "é", "\n");
    const leaf = fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.constant(new Date(0)));
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: "small" }, leaf, fc.array(tie("v"), { maxLength: 3 }), fc.dictionary(keys, tie("v"), { maxKeys: 4 })),
    })).v;
    const fieldsV1 = fc.letrec((tie) => ({ t: fc.dictionary(keys, fc.oneof({ depthSize: "small" }, fc.constant({}), tie("t")), { maxKeys: 4 }) })).t;
    const entry = fc.record({ manager: fc.string({ maxLength: 3 }), fieldsV1: fc.oneof(fieldsV1, fieldsV1, value) }, { requiredKeys: [] });
    const object = fc
      .tuple(fc.dictionary(keys, value, { maxKeys: 3 }), fc.array(entry, { maxLength: 3 }), fc.dictionary(keys, value, { maxKeys: 3 }))
      .map(([before, managedFields, after]) => ({ ...before, metadata: { ...before, managedFields, ...after }, ...after }));
    fc.assert(
      fc.property(object, (o) => {
        const [a, b] = both(o);
        expect(b).toBe(a);
      }),
      { numRuns: 3000, seed: 0x0b1ec7 },
    );
  });
});
