/** @module Tests for request path and query parsing. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parseResourcePath, queryOf } from "./request.ts";

describe("parseResourcePath", () => {
  test("shapes", () => {
    expect(parseResourcePath("", "v1", ["namespaces", "a", "pods", "p", "status"])).toEqual({
      group: "",
      version: "v1",
      namespace: "a",
      resource: "pods",
      name: "p",
      subresource: "status",
    });
    expect(parseResourcePath("", "v1", ["namespaces", "a", "status"])).toEqual({ group: "", version: "v1", resource: "namespaces", name: "a", subresource: "status" });
    expect(parseResourcePath("", "v1", ["namespaces", "a", "pods"])).toEqual({ group: "", version: "v1", namespace: "a", resource: "pods" });
    expect(parseResourcePath("apps", "v1", ["deployments", "", "d"])).toEqual({ group: "apps", version: "v1", resource: "deployments", name: "d" });
    expect(parseResourcePath("", "v1", ["pods", "a%2Fb"])).toEqual({ group: "", version: "v1", resource: "pods", name: "a/b" });
    expect(parseResourcePath("", "v1", ["pods", "%E0%A4%A"])).toBeUndefined();
    expect(parseResourcePath("", "v1", ["namespaces", "a", "pods", "p", "status", "x"])).toBeUndefined();
    expect(parseResourcePath("", "v1", ["pods", "p", "status", "x"])).toBeUndefined();
    expect(parseResourcePath("", "v1", ["", ""])).toBeUndefined();
  });
});

describe("queryOf", () => {
  test("reads the query as URL's searchParams does", () => {
    const piece = fc.constantFrom("?", "&", "=", "#", "+", "%", "%20", "%zz", "a", "é", " ", '"', "<", "watch", "true", "%E2%82%AC");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), fc.boolean(), (parts, withQuery) => {
        const url = new Request(`http://x/api/v1/pods${withQuery ? "?" : ""}${parts.join("")}`).url;
        expect([...queryOf(url)]).toEqual([...new URL(url).searchParams]);
      }),
      { numRuns: 2000, seed: 11 },
    );
  });
});
