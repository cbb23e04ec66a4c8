/** @module The authorizer chain: first allow or deny wins, no-opinion falls through; system:masters. */
import { describe, expect, test } from "bun:test";
import type { AuthorizationResult, Authorizer, RequestAttributes } from "../types.ts";
import { privilegedGroups, skiffAuthorizer, union } from "./union.ts";

const attrs: RequestAttributes = { resourceRequest: false, path: "/x", verb: "get", apiGroup: "", apiVersion: "", resource: "", subresource: "", namespace: "", name: "" };
const fixed = (name: string, r: AuthorizationResult, calls: string[], async = false): Authorizer => ({
  name,
  authorize: () => (calls.push(name), async ? Promise.resolve(r) : r),
});
const throwing = (name: string, calls: string[]): Authorizer => ({
  name,
  authorize: () => {
    calls.push(name);
    throw new Error("boom");
  },
});
const u = { name: "u", groups: [] };

describe("union", () => {
  const cases: [string, (calls: string[]) => Authorizer[], AuthorizationResult, string[]][] = [
    ["allow first wins", (c) => [fixed("a", { decision: "allow", reason: "A" }, c), fixed("b", { decision: "deny", reason: "B" }, c)], { decision: "allow", reason: "A" }, ["a"]],
    ["deny stops the chain", (c) => [fixed("a", { decision: "deny", reason: "no" }, c), fixed("b", { decision: "allow", reason: "" }, c)], { decision: "deny", reason: "no" }, ["a"]],
    ["no-opinion falls through", (c) => [fixed("a", { decision: "no-opinion", reason: "" }, c), fixed("b", { decision: "allow", reason: "B" }, c)], { decision: "allow", reason: "B" }, ["a", "b"]],
    ["all no-opinion: reasons joined", (c) => [fixed("a", { decision: "no-opinion", reason: "ra" }, c), fixed("b", { decision: "no-opinion", reason: "rb" }, c)], { decision: "no-opinion", reason: "ra\nrb" }, ["a", "b"]],
    ["async steps", (c) => [fixed("a", { decision: "no-opinion", reason: "" }, c, true), fixed("b", { decision: "deny", reason: "B" }, c, true)], { decision: "deny", reason: "B" }, ["a", "b"]],
    ["a throwing step is an opinionless error", (c) => [throwing("a", c), fixed("b", { decision: "no-opinion", reason: "" }, c)], { decision: "no-opinion", reason: "a: boom" }, ["a", "b"]],
  ];
  for (const [what, build, want, order] of cases) {
    test(what, async () => {
      const calls: string[] = [];
      expect(await union(build(calls)).authorize(u, attrs)).toEqual(want);
      expect(calls).toEqual(order);
    });
  }

  test("stays synchronous when every step is", () => {
    const r = union([fixed("a", { decision: "no-opinion", reason: "" }, []), fixed("b", { decision: "allow", reason: "" }, [])]).authorize(u, attrs);
    expect(r instanceof Promise).toBe(false);
  });

  test("privileged groups and the skiff chain", async () => {
    expect(privilegedGroups().authorize({ name: "x", groups: ["system:masters"] }, attrs)).toEqual({ decision: "allow", reason: "" });
    expect(privilegedGroups().authorize({ name: "system:masters", groups: [] }, attrs)).toEqual({ decision: "no-opinion", reason: "" });
    const calls: string[] = [];
    const chain = skiffAuthorizer({ node: fixed("node", { decision: "no-opinion", reason: "" }, calls), rbac: fixed("rbac", { decision: "no-opinion", reason: "" }, calls) });
    await chain.authorize({ name: "x", groups: ["system:masters"] }, attrs);
    expect(calls).toEqual([]);
    await chain.authorize(u, attrs);
    expect(calls).toEqual(["node", "rbac"]);
    expect(await chain.rulesFor(u, "ns")).toEqual({ resourceRules: [], nonResourceRules: [], incomplete: true });
  });
});
