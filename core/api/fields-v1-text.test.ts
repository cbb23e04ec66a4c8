/** @module Tests for lazily parsed fieldsV1 trees: they read, copy, compare, freeze and change as plain data does. */
import { expect, test } from "bun:test";
import { deepEqual } from "./json.ts";
import { defineLazyFieldsV1, pendingFieldsV1Text } from "./fields-v1-text.ts";
import { deepFreeze } from "./object-channel.ts";

const TEXT = '{"f:metadata":{"f:labels":{".":{},"f:a":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"web\\"}":{".":{},"f:image":{}}}}}';

function lazy(): Record<string, unknown> {
  const e: Record<string, unknown> = { manager: "m", operation: "Update", apiVersion: "v1", time: "t", fieldsType: "FieldsV1" };
  defineLazyFieldsV1(e, TEXT);
  e.subresource = "status";
  return e;
}

const plain = () => ({ manager: "m", operation: "Update", apiVersion: "v1", time: "t", fieldsType: "FieldsV1", fieldsV1: JSON.parse(TEXT), subresource: "status" });

test("an entry whose tree was never read is known by its text; reading it parses once and forgets the text", () => {
  const e = lazy();
  expect(pendingFieldsV1Text(e)).toBe(TEXT);
  expect(Object.keys(e)).toEqual(Object.keys(plain()));
  const tree = e.fieldsV1;
  expect(tree).toEqual(JSON.parse(TEXT));
  expect(e.fieldsV1).toBe(tree);
  expect(pendingFieldsV1Text(e)).toBeUndefined();
});

test("copies, comparisons and serialization see plain data", () => {
  expect(JSON.stringify(lazy())).toBe(JSON.stringify(plain()));
  expect(structuredClone(lazy())).toEqual(plain());
  expect({ ...lazy() }).toEqual(plain());
  expect(lazy()).toStrictEqual(plain());
  expect(deepEqual(lazy(), plain())).toBe(true);
});

test("a replaced or changed tree is never written from the text", () => {
  const e = lazy();
  e.fieldsV1 = { "f:x": {} };
  expect(pendingFieldsV1Text(e)).toBeUndefined();
  expect(JSON.stringify(e)).toContain('"fieldsV1":{"f:x":{}}');
  const f = lazy();
  (f.fieldsV1 as Record<string, unknown>)["f:y"] = {};
  expect(pendingFieldsV1Text(f)).toBeUndefined();
  expect(JSON.stringify(f)).toContain('"f:y":{}');
});

test("a frozen entry (the cache mutation detector) freezes its tree and refuses a new one", () => {
  const e = deepFreeze(lazy());
  expect(Object.isFrozen(e.fieldsV1)).toBe(true);
  expect(() => {
    e.fieldsV1 = {};
  }).toThrow(TypeError);
  expect(e.fieldsV1).toEqual(JSON.parse(TEXT));
});
