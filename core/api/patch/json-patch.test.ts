import { describe, expect, test } from "bun:test";
import { ApiError } from "../errors.ts";
import { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from "./json-patch.ts";
import { thrownApiError } from "../../../test/fixtures/api-error.ts";

const failure = thrownApiError;

const GENERIC_422 = "the server rejected our request due to an error in our request";

// RFC 6902 Appendix A, plus the upstream (evanphx/json-patch v4) behaviours clients can see.
const ok: Array<{ name: string; doc: unknown; patch: unknown; want: unknown }> = [
  { name: "A.1 add an object member", doc: { foo: "bar" }, patch: [{ op: "add", path: "/baz", value: "qux" }], want: { foo: "bar", baz: "qux" } },
  { name: "A.2 add an array element", doc: { foo: ["bar", "baz"] }, patch: [{ op: "add", path: "/foo/1", value: "qux" }], want: { foo: ["bar", "qux", "baz"] } },
  { name: "A.3 remove an object member", doc: { baz: "qux", foo: "bar" }, patch: [{ op: "remove", path: "/baz" }], want: { foo: "bar" } },
  { name: "A.4 remove an array element", doc: { foo: ["bar", "qux", "baz"] }, patch: [{ op: "remove", path: "/foo/1" }], want: { foo: ["bar", "baz"] } },
  { name: "A.5 replace a value", doc: { baz: "qux", foo: "bar" }, patch: [{ op: "replace", path: "/baz", value: "boo" }], want: { baz: "boo", foo: "bar" } },
  {
    name: "A.6 move a value",
    doc: { foo: { bar: "baz", waldo: "fred" }, qux: { corge: "grault" } },
    patch: [{ op: "move", from: "/foo/waldo", path: "/qux/thud" }],
    want: { foo: { bar: "baz" }, qux: { corge: "grault", thud: "fred" } },
  },
  { name: "A.7 move an array element", doc: { foo: ["all", "grass", "cows", "eat"] }, patch: [{ op: "move", from: "/foo/1", path: "/foo/3" }], want: { foo: ["all", "cows", "eat", "grass"] } },
  {
    name: "A.8 test a value: success",
    doc: { baz: "qux", foo: ["a", 2, "c"] },
    patch: [
      { op: "test", path: "/baz", value: "qux" },
      { op: "test", path: "/foo/1", value: 2 },
    ],
    want: { baz: "qux", foo: ["a", 2, "c"] },
  },
  { name: "A.10 add a nested member object", doc: { foo: "bar" }, patch: [{ op: "add", path: "/child", value: { grandchild: {} } }], want: { foo: "bar", child: { grandchild: {} } } },
  { name: "A.11 ignore unrecognized elements", doc: { foo: "bar" }, patch: [{ op: "add", path: "/baz", value: "qux", xyz: 123 }], want: { foo: "bar", baz: "qux" } },
  { name: "A.14 ~ escape ordering", doc: { "/": 9, "~1": 10 }, patch: [{ op: "test", path: "/~01", value: 10 }], want: { "/": 9, "~1": 10 } },
  { name: "A.16 add an array value", doc: { foo: ["bar"] }, patch: [{ op: "add", path: "/foo/-", value: ["abc", "def"] }], want: { foo: ["bar", ["abc", "def"]] } },
  { name: "~1 decodes to /", doc: { labels: {} }, patch: [{ op: "add", path: "/labels/app.kubernetes.io~1name", value: "web" }], want: { labels: { "app.kubernetes.io/name": "web" } } },
  { name: "copy", doc: { a: { b: 1 } }, patch: [{ op: "copy", from: "/a", path: "/c" }], want: { a: { b: 1 }, c: { b: 1 } } },
  { name: "negative index replaces from the end", doc: { l: [1, 2, 3] }, patch: [{ op: "replace", path: "/l/-1", value: 9 }], want: { l: [1, 2, 9] } },
  { name: "add at -1 appends", doc: { l: [1, 2] }, patch: [{ op: "add", path: "/l/-1", value: 3 }], want: { l: [1, 2, 3] } },
  { name: "add at the end index", doc: { l: [1] }, patch: [{ op: "add", path: "/l/1", value: 2 }], want: { l: [1, 2] } },
  { name: "add replaces an existing member", doc: { a: 1 }, patch: [{ op: "add", path: "/a", value: 2 }], want: { a: 2 } },
  { name: "test null against a missing member passes (upstream)", doc: { a: {} }, patch: [{ op: "test", path: "/a/b", value: null }], want: { a: {} } },
  { name: "replace the whole document", doc: { a: 1 }, patch: [{ op: "replace", path: "", value: { b: 2 } }], want: { b: 2 } },
  { name: "null patch is a no-op", doc: { a: 1 }, patch: null, want: { a: 1 } },
  {
    name: "rollout undo shape: replace template and annotations",
    doc: { metadata: { annotations: { x: "1" } }, spec: { template: { spec: { containers: [{ name: "c", image: "v2" }] } } } },
    patch: [
      { op: "replace", path: "/spec/template", value: { spec: { containers: [{ name: "c", image: "v1" }] } } },
      { op: "replace", path: "/metadata/annotations", value: { "deployment.kubernetes.io/revision": "1" } },
    ],
    want: { metadata: { annotations: { "deployment.kubernetes.io/revision": "1" } }, spec: { template: { spec: { containers: [{ name: "c", image: "v1" }] } } } },
  },
];

describe("applyJsonPatch: successful patches", () => {
  for (const c of ok) {
    test(c.name, () => {
      expect(applyJsonPatch(c.doc, c.patch)).toEqual(c.want);
    });
  }
});

// Application failures are upstream's generic 422; the cause keeps the reason.
const bad: Array<{ name: string; doc: unknown; patch: unknown; cause: string }> = [
  { name: "A.9 test a value: error", doc: { baz: "qux" }, patch: [{ op: "test", path: "/baz", value: "bar" }], cause: "testing value /baz failed" },
  { name: "A.12 add to a nonexistent target", doc: { foo: "bar" }, patch: [{ op: "add", path: "/baz/bat", value: "qux" }], cause: 'doc is missing path: "/baz/bat"' },
  { name: "A.15 strings and numbers differ", doc: { "/": 9, "~1": 10 }, patch: [{ op: "test", path: "/~01", value: "10" }], cause: "testing value /~01 failed" },
  { name: "remove a missing member", doc: { a: 1 }, patch: [{ op: "remove", path: "/b" }], cause: "remove operation does not apply" },
  { name: "replace a missing member", doc: { a: 1 }, patch: [{ op: "replace", path: "/b", value: 1 }], cause: "replace operation does not apply" },
  { name: "index out of range", doc: { l: [1] }, patch: [{ op: "add", path: "/l/5", value: 1 }], cause: "invalid index" },
  { name: "move from a missing path", doc: {}, patch: [{ op: "move", from: "/x", path: "/y" }], cause: "missing from path" },
  { name: "move into its own child", doc: { a: { b: 1 } }, patch: [{ op: "move", from: "/a", path: "/a/b/c" }], cause: "own child" },
  { name: "unknown operation", doc: {}, patch: [{ op: "merge", path: "/a" }], cause: "Unexpected kind: merge" },
  { name: "missing path field", doc: {}, patch: [{ op: "add", value: 1 }], cause: "missing path" },
  { name: "missing value", doc: {}, patch: [{ op: "add", path: "/a" }], cause: "missing value field" },
  { name: "pointer without leading slash", doc: { a: 1 }, patch: [{ op: "remove", path: "a" }], cause: "JSON pointer" },
  { name: "test on a missing parent", doc: {}, patch: [{ op: "test", path: "/a/b", value: null }], cause: "testing value /a/b failed" },
];

describe("applyJsonPatch: failing operations", () => {
  for (const c of bad) {
    test(c.name, () => {
      const e = failure(() => applyJsonPatch(c.doc, c.patch));
      expect(e.code).toBe(422);
      expect(e.reason).toBe("Invalid");
      expect(e.message).toBe(GENERIC_422);
      expect((e.cause as Error).message).toContain(c.cause);
    });
  }
});

describe("applyJsonPatch: malformed patches", () => {
  test("an object patch is a 400 with Go's decode message", () => {
    const e = failure(() => applyJsonPatch({}, { op: "add" }));
    expect(e.code).toBe(400);
    expect(e.message).toBe("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  });
  test("a non-object operation is a 400", () => {
    const e = failure(() => applyJsonPatch({}, ["add"]));
    expect(e.code).toBe(400);
    expect(e.message).toBe("json: cannot unmarshal string into Go value of type jsonpatch.Operation");
  });
  test("more than 10000 operations is a 413", () => {
    const ops = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: "test", path: "/a", value: 1 }));
    const e = failure(() => applyJsonPatch({ a: 1 }, ops));
    expect(e.code).toBe(413);
    expect(e.message).toContain("The allowed maximum operations in a JSON patch is 10000, got 10001");
  });
});

describe("applyJsonPatch: purity and atomicity", () => {
  test("inputs are not mutated and results do not alias them", () => {
    const doc = { a: { b: [1, 2] } };
    const value = { deep: [1] };
    const patch = [
      { op: "add", path: "/a/b/-", value: 3 },
      { op: "add", path: "/v", value },
    ];
    const snapshot = structuredClone({ doc, patch });
    const out = applyJsonPatch(doc, patch) as { v: { deep: number[] } };
    expect({ doc, patch }).toEqual(snapshot);
    out.v.deep.push(2);
    expect(value.deep).toEqual([1]);
  });
  test("a failing later operation leaves the document untouched", () => {
    const doc = { a: 1 };
    expect(() =>
      applyJsonPatch(doc, [
        { op: "replace", path: "/a", value: 2 },
        { op: "test", path: "/a", value: 3 },
      ]),
    ).toThrow(ApiError);
    expect(doc).toEqual({ a: 1 });
  });
  test("copy produces an independent value", () => {
    const out = applyJsonPatch({ a: { n: 1 } }, [
      { op: "copy", from: "/a", path: "/b" },
      { op: "replace", path: "/b/n", value: 2 },
    ]);
    expect(out).toEqual({ a: { n: 1 }, b: { n: 2 } });
  });
});
