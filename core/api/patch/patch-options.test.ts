import { describe, expect, test } from "bun:test";
import { managerOrUserAgent, patchTypeOf, supportedPatchTypes, validatePatchOptions, validateWriteOptions } from "./patch-options.ts";
import { thrownApiError } from "../../../test/fixtures/api-error.ts";

const failure = thrownApiError;

describe("patch media types", () => {
  const builtin = supportedPatchTypes({ strategicMerge: true });
  const custom = supportedPatchTypes({ strategicMerge: false });

  test.each([
    ["application/json-patch+json", "json"],
    ["application/merge-patch+json; charset=utf-8", "merge"],
    ["application/strategic-merge-patch+json", "strategic"],
    ["application/apply-patch+yaml", "apply"],
  ])("%s is %s", (contentType, want) => {
    expect(patchTypeOf(contentType, builtin)).toBe(want as never);
  });

  test("custom resources refuse strategic merge with upstream's 415", () => {
    const e = failure(() => patchTypeOf("application/strategic-merge-patch+json", custom));
    expect(e.code).toBe(415);
    expect(e.reason).toBe("UnsupportedMediaType");
    expect(e.message).toBe(
      "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
    );
  });

  test("an unknown or missing content type is a 415", () => {
    expect(failure(() => patchTypeOf("application/json", builtin)).code).toBe(415);
    expect(failure(() => patchTypeOf(undefined, builtin)).code).toBe(415);
  });
});

describe("validatePatchOptions", () => {
  test("apply without fieldManager is upstream's 422", () => {
    const e = failure(() => validatePatchOptions({ patchType: "apply" }));
    expect(e.code).toBe(422);
    expect(e.message).toBe('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    expect(e.details?.causes).toEqual([{ reason: "FieldValueRequired", message: "Required value: is required for apply patch", field: "fieldManager" }]);
  });
  test("force on a non-apply patch is forbidden", () => {
    const e = failure(() => validatePatchOptions({ patchType: "merge", fieldManager: "kubectl", force: false }));
    expect(e.code).toBe(422);
    expect(e.message).toContain("force: Forbidden: may not be specified for non-apply patch");
  });
  test("valid options pass", () => {
    expect(() => validatePatchOptions({ patchType: "apply", fieldManager: "kubectl", force: true })).not.toThrow();
    expect(() => validatePatchOptions({ patchType: "strategic" })).not.toThrow();
  });
  test("a fieldManager over 128 bytes or with control characters is invalid", () => {
    expect(failure(() => validatePatchOptions({ patchType: "apply", fieldManager: "x".repeat(129) })).message).toContain("fieldManager: Too long");
    const e = failure(() => validateWriteOptions({ kind: "UpdateOptions", fieldManager: "bad\u0007name" }));
    expect(e.message).toContain('UpdateOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value');
    expect(e.message).toContain("invalid character U+0007 (at position 3)");
  });
});

describe("managerOrUserAgent", () => {
  test.each([
    ["kubectl-edit", "kubectl/v1.32.4 (linux/amd64) kubernetes/abc", "kubectl-edit"],
    [undefined, "kubectl/v1.32.4 (linux/amd64) kubernetes/abc", "kubectl"],
    ["", "OpenAPI-Generator/31.0.0/python", "OpenAPI-Generator"],
    [undefined, undefined, ""],
    [undefined, "ab\u0001c/1", "abc"],
  ])("%p with %p gives %p", (fieldManager, ua, want) => {
    expect(managerOrUserAgent(fieldManager, ua)).toBe(want);
  });
  test("is capped at 128 bytes", () => {
    expect(managerOrUserAgent(undefined, "y".repeat(300))).toHaveLength(128);
  });
});
