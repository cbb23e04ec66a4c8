import { describe, expect, test } from "bun:test";
import { ApiError } from "../errors.ts";
import { applyMergePatch, mergePatchValue } from "./merge-patch.ts";

// RFC 7386 Appendix A: every example, through the RFC algorithm.
const rfc: Array<[unknown, unknown, unknown]> = [
  [{ a: "b" }, { a: "c" }, { a: "c" }],
  [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
  [{ a: "b" }, { a: null }, {}],
  [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
  [{ a: ["b"] }, { a: "c" }, { a: "c" }],
  [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
  [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
  [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
  [["a", "b"], ["c", "d"], ["c", "d"]],
  [{ a: "b" }, ["c"], ["c"]],
  [{ a: "foo" }, null, null],
  [{ a: "foo" }, "bar", "bar"],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: "b", c: null }, { a: "b" }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

describe("mergePatchValue (RFC 7386 Appendix A)", () => {
  rfc.forEach(([target, patch, want], i) => {
    test(`example ${i + 1}: ${JSON.stringify(patch)}`, () => {
      expect(mergePatchValue(target, patch)).toEqual(want);
    });
  });
});

describe("applyMergePatch", () => {
  test("kubectl label --overwrite / removal with null", () => {
    const doc = { metadata: { name: "web", labels: { app: "web", tier: "fe" } } };
    const out = applyMergePatch(doc, { metadata: { labels: { tier: null, env: "prod" } } });
    expect(out).toEqual({ metadata: { name: "web", labels: { app: "web", env: "prod" } } });
  });
  test("kubectl scale on /scale", () => {
    expect(applyMergePatch({ spec: { replicas: 1 }, status: { replicas: 1 } }, { spec: { replicas: 3 } })).toEqual({
      spec: { replicas: 3 },
      status: { replicas: 1 },
    });
  });
  test("lists are replaced wholesale", () => {
    const doc = { spec: { containers: [{ name: "a", image: "x", ports: [{ containerPort: 80 }] }] } };
    expect(applyMergePatch(doc, { spec: { containers: [{ name: "a", image: "y" }] } })).toEqual({
      spec: { containers: [{ name: "a", image: "y" }] },
    });
  });
  test("keeps key order, new keys last", () => {
    const out = applyMergePatch({ b: 1, a: 2 }, { c: 3, b: 4 }) as object;
    expect(Object.keys(out)).toEqual(["b", "a", "c"]);
  });
  for (const patch of [null, "x", 1, ["a"]]) {
    test(`a ${JSON.stringify(patch)} patch is a 400 Invalid JSON Patch`, () => {
      let err: unknown;
      try {
        applyMergePatch({ a: 1 }, patch);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe(400);
      expect((err as ApiError).message).toBe("Invalid JSON Patch");
    });
  }
  test("inputs are not mutated and results do not alias them", () => {
    const doc = { a: { b: 1 }, keep: { deep: [1] } };
    const patch = { a: { c: { d: 1 } } };
    const snapshot = structuredClone({ doc, patch });
    const out = applyMergePatch(doc, patch) as { keep: { deep: number[] }; a: { c: { d: number } } };
    expect({ doc, patch }).toEqual(snapshot);
    out.keep.deep.push(2);
    out.a.c.d = 5;
    expect({ doc, patch }).toEqual(snapshot);
  });
});
