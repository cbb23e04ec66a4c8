import { describe, expect, test } from "bun:test";
import { FieldSet, fieldPE, keyPE, pathToString, peFromString, peToString, type FieldPath } from "./fieldpath.ts";

const f = fieldPE;
const containers: FieldPath = [f("spec"), f("containers")];
const nginx = keyPE([["name", "nginx"]]);

describe("path elements", () => {
  test.each([
    ["f:spec", "f:spec"],
    ['k:{"name":"nginx"}', 'k:{"name":"nginx"}'],
    ['k:{"protocol":"TCP","containerPort":80}', 'k:{"containerPort":80,"protocol":"TCP"}'],
    ['v:"example.com/finalizer"', 'v:"example.com/finalizer"'],
    ["v:5", "v:5"],
    ["i:3", "i:3"],
  ])("%s round-trips as %s", (input, canonical) => {
    expect(peToString(peFromString(input))).toBe(canonical);
  });
  test.each(["x:1", "k:[1]", "i:-1", "k:{"])("%s is rejected", (input) => {
    expect(() => peFromString(input)).toThrow();
  });
  test("paths print like upstream", () => {
    expect(pathToString([...containers, nginx, f("image")])).toBe('.spec.containers[name="nginx"].image');
    expect(pathToString([f("ports"), keyPE([["protocol", "TCP"], ["containerPort", 80]])])).toBe('.ports[containerPort=80,protocol="TCP"]');
    expect(pathToString([f("metadata"), f("finalizers"), { kind: "value", value: "a" }])).toBe('.metadata.finalizers[="a"]');
    expect(pathToString([f("args"), { kind: "index", index: 2 }])).toBe(".args[2]");
  });
});

describe("fieldsV1 encoding", () => {
  test("members, children and the '.' marker, sorted fields before keys before values", () => {
    const s = FieldSet.of([
      [f("spec"), f("replicas")],
      [...containers, nginx],
      [...containers, nginx, f("name")],
      [...containers, nginx, f("image")],
      [f("metadata"), f("labels")],
      [f("metadata"), f("labels"), f("app")],
      [f("metadata"), f("finalizers"), { kind: "value", value: "b" }],
      [f("metadata"), f("finalizers"), { kind: "value", value: "a" }],
    ]);
    const v1 = s.toFieldsV1();
    expect(v1).toEqual({
      "f:metadata": { "f:finalizers": { 'v:"a"': {}, 'v:"b"': {} }, "f:labels": { ".": {}, "f:app": {} } },
      "f:spec": { "f:containers": { 'k:{"name":"nginx"}': { ".": {}, "f:image": {}, "f:name": {} } }, "f:replicas": {} },
    });
    expect(JSON.stringify(v1)).toBe(
      '{"f:metadata":{"f:finalizers":{"v:\\"a\\"":{},"v:\\"b\\"":{}},"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:name":{}}},"f:replicas":{}}}',
    );
    const back = FieldSet.fromFieldsV1(v1);
    expect(back.toFieldsV1()).toEqual(v1);
    expect(back.has([f("metadata"), f("labels")])).toBe(true);
    expect(back.has([f("metadata")])).toBe(false);
    expect(back.paths()).toHaveLength(8);
  });
  test("malformed fieldsV1 is rejected", () => {
    expect(() => FieldSet.fromFieldsV1({ "f:a": 1 })).toThrow();
    expect(() => FieldSet.fromFieldsV1(["f:a"])).toThrow();
    expect(() => FieldSet.fromFieldsV1({ "z:a": {} })).toThrow();
  });
});

describe("set operations", () => {
  const a = FieldSet.of([[f("a")], [f("b"), f("c")], [f("b"), f("d")]]);
  const b = FieldSet.of([[f("b"), f("c")], [f("e")], [f("b")]]);
  test("union", () => {
    expect(a.union(b).paths().map(pathToString)).toEqual([".a", ".b", ".b.c", ".b.d", ".e"]);
  });
  test("intersection", () => {
    expect(a.intersection(b).paths().map(pathToString)).toEqual([".b.c"]);
  });
  test("difference keeps children of a removed parent", () => {
    expect(a.difference(b).paths().map(pathToString)).toEqual([".a", ".b.d"]);
  });
  test("recursiveDifference removes them", () => {
    expect(a.recursiveDifference(b).paths().map(pathToString)).toEqual([".a"]);
  });
  test("emptiness ignores empty children", () => {
    expect(FieldSet.of([[f("x"), f("y")]]).difference(FieldSet.of([[f("x"), f("y")]])).isEmpty()).toBe(true);
    expect(a.isEmpty()).toBe(false);
  });
});
