/** @module Tests for the schema builders: the exact Schema shapes they produce. */
import { describe, expect, test } from "bun:test";
import {
  arr,
  atomic,
  bool,
  enumStr,
  int32,
  intOrString,
  INT_OR_STRING,
  keyed,
  kindSchema,
  map,
  obj,
  preserveUnknown,
  quantity,
  QUANTITY,
  ref,
  set,
  str,
  strMap,
  time,
  TIME,
  walkSchemas,
} from "./schema-dsl.ts";

describe("schema builders", () => {
  test("scalars", () => {
    expect(str()).toEqual({ type: "string" });
    expect(str({ default: "TCP", description: "d" })).toEqual({ type: "string", default: "TCP", description: "d" });
    expect(int32({ minimum: 0 })).toEqual({ type: "integer", format: "int32", minimum: 0 });
    expect(bool()).toEqual({ type: "boolean" });
    expect(enumStr(["A", "B"])).toEqual({ type: "string", enum: ["A", "B"] });
  });

  test("objects", () => {
    expect(obj("x.Y", { a: str() }, { required: ["a"], mapType: "atomic" })).toEqual({
      name: "x.Y",
      type: "object",
      properties: { a: { type: "string" } },
      required: ["a"],
      "x-kubernetes-map-type": "atomic",
    });
    expect(obj(undefined, {}, { strategy: "retainKeys" })).toEqual({ type: "object", properties: {}, "x-kubernetes-patch-strategy": "retainKeys" });
  });

  test("lists", () => {
    expect(arr(str(), { listType: "map", mapKeys: ["name"], mergeKey: "name", strategy: "merge" })).toEqual({
      type: "array",
      items: { type: "string" },
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
      "x-kubernetes-patch-merge-key": "name",
      "x-kubernetes-patch-strategy": "merge",
    });
    expect(keyed(str(), ["containerPort", "protocol"])).toMatchObject({
      "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
      "x-kubernetes-patch-merge-key": "containerPort",
      "x-kubernetes-patch-strategy": "merge",
    });
    expect(atomic(str())["x-kubernetes-list-type"]).toBe("atomic");
    expect(set(str(), { strategy: "merge" })).toEqual({ type: "array", items: { type: "string" }, "x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge" });
  });

  test("maps and special types", () => {
    expect(strMap({ mapType: "atomic" })).toEqual({ type: "object", additionalProperties: { type: "string" }, "x-kubernetes-map-type": "atomic" });
    expect(map(int32())).toEqual({ type: "object", additionalProperties: { type: "integer", format: "int32" } });
    expect(intOrString()).toBe(INT_OR_STRING);
    expect(quantity()).toBe(QUANTITY);
    expect(time()).toBe(TIME);
    expect(intOrString({ description: "x" })).toEqual({ allOf: [INT_OR_STRING], description: "x" });
    expect(QUANTITY.format).toBe("quantity");
    expect(TIME).toMatchObject({ type: "string", format: "date-time" });
    expect(preserveUnknown()).toEqual({ type: "object", "x-kubernetes-preserve-unknown-fields": true });
  });

  test("ref wraps only when it adds something", () => {
    const named = obj("a.B", {});
    expect(ref(named)).toBe(named);
    expect(ref(named, { description: "field doc" })).toEqual({ allOf: [named], description: "field doc" });
  });

  test("kind schemas carry their group-version-kind", () => {
    const meta = obj("meta", {});
    const s = kindSchema("io.k8s.api.apps.v1.Thing", { group: "apps", version: "v1", kind: "Thing" }, meta, { spec: obj(undefined, {}) });
    expect(Object.keys(s.properties ?? {})).toEqual(["apiVersion", "kind", "metadata", "spec"]);
    expect(s["x-kubernetes-group-version-kind"]).toEqual([{ group: "apps", version: "v1", kind: "Thing" }]);
  });

  test("walkSchemas visits shared and cyclic nodes once", () => {
    const node = obj("cyc.Node", {});
    node.properties = { self: node, list: arr(node), m: map(node) };
    let n = 0;
    walkSchemas(node, () => n++);
    expect(n).toBe(3);
  });
});
