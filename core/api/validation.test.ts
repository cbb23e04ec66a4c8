/** @module Tests for name/label/annotation/ObjectMeta validation against Kubernetes' rules and messages. */
import { describe, test, expect } from "bun:test";
import fc from "fast-check";
import type { StatusCause } from "./errors.ts";
import {
  MAX_ANNOTATIONS_BYTES,
  MAX_OBJECT_BYTES,
  goQuote,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  utf8Length,
  validateAnnotations,
  validateLabels,
  validateObjectMeta,
  type ObjectMetaValidationOptions,
} from "./validation.ts";

const LABEL_REGEX_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_REGEX_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const NAME_PART_REGEX_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const QUALIFIED_SLASHES_MSG =
  "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
const LABEL_VALUE_REGEX_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

const a63 = "a".repeat(63);
const a64 = "a".repeat(64);

describe("isDNS1123Label", () => {
  const cases: [string, string[]][] = [
    ["a", []],
    ["0", []],
    ["my-name", []],
    ["123-abc", []],
    ["a--b", []],
    [a63, []],
    [a64, ["must be no more than 63 characters"]],
    ["", [LABEL_REGEX_MSG]],
    ["A", [LABEL_REGEX_MSG]],
    ["-a", [LABEL_REGEX_MSG]],
    ["a-", [LABEL_REGEX_MSG]],
    ["a_b", [LABEL_REGEX_MSG]],
    ["a.b", ["must not contain dots"]],
    [`${a63}.b`, ["must be no more than 63 characters", "must not contain dots"]],
    [`${a64}-`, ["must be no more than 63 characters", LABEL_REGEX_MSG]],
  ];
  test.each(cases)("%p → %p", (v, want) => expect(isDNS1123Label(v)).toEqual(want));
});

describe("isDNS1123Subdomain", () => {
  const max = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`;
  const cases: [string, string[]][] = [
    ["example.com", []],
    ["a", []],
    ["a-b.c-d", []],
    ["1.2.3.4", []],
    [max, []],
    [`${max}e`, ["must be no more than 253 characters"]],
    ["a".repeat(300), ["must be no more than 253 characters"]],
    ["", [SUBDOMAIN_REGEX_MSG]],
    ["Example.com", [SUBDOMAIN_REGEX_MSG]],
    ["a..b", [SUBDOMAIN_REGEX_MSG]],
    [".a", [SUBDOMAIN_REGEX_MSG]],
    ["a.", [SUBDOMAIN_REGEX_MSG]],
    ["a-.b", [SUBDOMAIN_REGEX_MSG]],
    ["a.-b", [SUBDOMAIN_REGEX_MSG]],
    ["a_b", [SUBDOMAIN_REGEX_MSG]],
    ["a/b", [SUBDOMAIN_REGEX_MSG]],
  ];
  test.each(cases)("%p → %p", (v, want) => expect(isDNS1123Subdomain(v)).toEqual(want));
});

describe("isQualifiedName", () => {
  const cases: [string, string[]][] = [
    ["MyName", []],
    ["my.name", []],
    ["123-abc", []],
    ["a_b", []],
    ["example.com/MyName", []],
    [`example.com/${a63}`, []],
    [a63, []],
    [a64, ["name part must be no more than 63 characters"]],
    ["", ["name part must be non-empty", NAME_PART_REGEX_MSG]],
    ["example.com/", ["name part must be non-empty", NAME_PART_REGEX_MSG]],
    ["/a", ["prefix part must be non-empty"]],
    ["a/b/c", [QUALIFIED_SLASHES_MSG]],
    ["Example.com/a", [`prefix part ${SUBDOMAIN_REGEX_MSG}`]],
    [`${"p".repeat(254)}/a`, ["prefix part must be no more than 253 characters"]],
    ["-a", [NAME_PART_REGEX_MSG]],
    ["a-", [NAME_PART_REGEX_MSG]],
    ["_a", [NAME_PART_REGEX_MSG]],
    ["a b", [NAME_PART_REGEX_MSG]],
    [`x/${a64}-`, ["name part must be no more than 63 characters", NAME_PART_REGEX_MSG]],
  ];
  test.each(cases)("%p → %p", (v, want) => expect(isQualifiedName(v)).toEqual(want));
});

describe("isValidLabelValue", () => {
  const cases: [string, string[]][] = [
    ["", []],
    ["a", []],
    ["MyValue", []],
    ["my_value", []],
    ["A-b_c.D", []],
    [a63, []],
    [a64, ["must be no more than 63 characters"]],
    ["-a", [LABEL_VALUE_REGEX_MSG]],
    ["a-", [LABEL_VALUE_REGEX_MSG]],
    ["a b", [LABEL_VALUE_REGEX_MSG]],
    ["a/b", [LABEL_VALUE_REGEX_MSG]],
    ["\u00e9", [LABEL_VALUE_REGEX_MSG]],
    ["\u00e9".repeat(32), ["must be no more than 63 characters", LABEL_VALUE_REGEX_MSG]],
  ];
  test.each(cases)("%p → %p", (v, want) => expect(isValidLabelValue(v)).toEqual(want));
});

describe("helpers", () => {
  test("goQuote escapes like Go's %q", () => {
    expect(goQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(goQuote("\n\t\u0000\u007f")).toBe('"\\n\\t\\x00\\x7f"');
    expect(goQuote("caf\u00e9")).toBe('"caf\u00e9"');
  });

  test("utf8Length counts encoded bytes", () => {
    expect(utf8Length("abc")).toBe(3);
    expect(utf8Length("\u00e9")).toBe(2);
    expect(utf8Length("\u20ac")).toBe(3);
    expect(utf8Length("\u{1F600}")).toBe(4);
    expect(utf8Length("\ud800")).toBe(3);
  });

  test("size limits", () => {
    expect(MAX_OBJECT_BYTES).toBe(1572864);
    expect(MAX_ANNOTATIONS_BYTES).toBe(262144);
  });
});

describe("validateLabels", () => {
  test("valid and absent labels", () => {
    expect(validateLabels(undefined, "metadata.labels")).toEqual([]);
    expect(validateLabels(null, "metadata.labels")).toEqual([]);
    expect(validateLabels({ app: "web", "example.com/Tier": "", x: a63 }, "metadata.labels")).toEqual([]);
  });

  test("non-objects are one cause", () => {
    expect(validateLabels(["a"], "metadata.labels")).toEqual([
      { reason: "FieldValueInvalid", field: "metadata.labels", message: 'Invalid value: ["a"]: must be an object' },
    ]);
    expect(validateLabels("a=b", "spec.selector")).toEqual([
      { reason: "FieldValueInvalid", field: "spec.selector", message: 'Invalid value: "a=b": must be an object' },
    ]);
  });

  test("bad keys and values, formatted like field.Invalid", () => {
    expect(validateLabels({ "a b": "ok", good: "bad value", n: 5 }, "metadata.labels")).toEqual([
      { reason: "FieldValueInvalid", field: "metadata.labels", message: `Invalid value: "a b": ${NAME_PART_REGEX_MSG}` },
      { reason: "FieldValueInvalid", field: "metadata.labels", message: `Invalid value: "bad value": ${LABEL_VALUE_REGEX_MSG}` },
      { reason: "FieldValueInvalid", field: "metadata.labels", message: "Invalid value: 5: must be a string" },
    ]);
    expect(validateLabels({ "Example.com/a": "x" }, "metadata.labels")).toHaveLength(1);
  });
});

describe("validateAnnotations", () => {
  test("keys are checked lower-cased, values must be strings", () => {
    expect(validateAnnotations({ "Example.COM/Some-Key": "any value at all, even / and spaces" }, "metadata.annotations")).toEqual([]);
    expect(validateAnnotations({ "a/b/c": "x", ok: 1 }, "metadata.annotations")).toEqual([
      { reason: "FieldValueInvalid", field: "metadata.annotations", message: `Invalid value: "a/b/c": ${QUALIFIED_SLASHES_MSG}` },
      { reason: "FieldValueInvalid", field: "metadata.annotations", message: "Invalid value: 1: must be a string" },
    ]);
    expect(validateAnnotations(7, "metadata.annotations")).toEqual([
      { reason: "FieldValueInvalid", field: "metadata.annotations", message: "Invalid value: 7: must be an object" },
    ]);
  });

  test("total size is capped at 256 KiB of keys plus values", () => {
    const tooLong: StatusCause = {
      reason: "FieldValueTooLong",
      field: "metadata.annotations",
      message: "Too long: must have at most 262144 bytes",
    };
    expect(validateAnnotations({ k: "x".repeat(262143) }, "metadata.annotations")).toEqual([]);
    expect(validateAnnotations({ k: "x".repeat(262144) }, "metadata.annotations")).toEqual([tooLong]);
    expect(validateAnnotations({ a: "x".repeat(131071), b: "y".repeat(131071) }, "metadata.annotations")).toEqual([]);
    expect(validateAnnotations({ a: "x".repeat(131071), bb: "y".repeat(131071) }, "metadata.annotations")).toEqual([tooLong]);
    expect(validateAnnotations({ k: "\u00e9".repeat(131072) }, "metadata.annotations")).toEqual([tooLong]);
  });
});

const SUB: ObjectMetaValidationOptions = { namespaced: true, nameValidation: "subdomain" };
const fields = (causes: StatusCause[]) => causes.map((c) => `${c.reason} ${c.field}: ${c.message}`);

describe("validateObjectMeta", () => {
  test("a typical valid object", () => {
    expect(
      validateObjectMeta(
        {
          name: "web-1.example",
          namespace: "default",
          uid: "u",
          resourceVersion: "7",
          generation: 3,
          labels: { app: "web" },
          annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" },
          finalizers: ["example.com/cleanup", "kubernetes"],
          ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: "1", controller: true }],
          managedFields: [],
        },
        SUB,
      ),
    ).toEqual([]);
  });

  const cases: [string, unknown, ObjectMetaValidationOptions, string[]][] = [
    ["metadata missing", undefined, SUB, ["FieldValueRequired metadata: Required value"]],
    ["metadata not an object", [], SUB, ["FieldValueInvalid metadata: Invalid value: []: must be an object"]],
    ["name missing", {}, SUB, ["FieldValueRequired metadata.name: Required value: name or generateName is required"]],
    ["empty name", { name: "" }, SUB, ["FieldValueRequired metadata.name: Required value: name or generateName is required"]],
    ["generateName suffices", { generateName: "web-" }, SUB, []],
    ["generateName with requireName", { generateName: "web-" }, { ...SUB, requireName: true }, [
      "FieldValueRequired metadata.name: Required value: name or generateName is required",
    ]],
    ["bad generateName", { generateName: "Web-" }, SUB, [`FieldValueInvalid metadata.generateName: Invalid value: "Web-": ${SUBDOMAIN_REGEX_MSG}`]],
    ["generateName dash mask keeps length", { generateName: `${"a".repeat(63)}-` }, { ...SUB, nameValidation: "label" }, []],
    ["generateName too long for label", { generateName: `${"a".repeat(64)}-` }, { ...SUB, nameValidation: "label" }, [
      'FieldValueInvalid metadata.generateName: Invalid value: "' + "a".repeat(64) + '-": must be no more than 63 characters',
    ]],
    ["uppercase name", { name: "Web" }, SUB, [`FieldValueInvalid metadata.name: Invalid value: "Web": ${SUBDOMAIN_REGEX_MSG}`]],
    ["trailing dash name", { name: "web-" }, SUB, [`FieldValueInvalid metadata.name: Invalid value: "web-": ${SUBDOMAIN_REGEX_MSG}`]],
    ["dotted name ok for subdomain", { name: "a.b" }, SUB, []],
    ["dotted name bad for label", { name: "a.b" }, { ...SUB, nameValidation: "label" }, [
      'FieldValueInvalid metadata.name: Invalid value: "a.b": must not contain dots',
    ]],
    ["63-char label name", { name: a63 }, { ...SUB, nameValidation: "label" }, []],
    ["64-char label name", { name: a64 }, { ...SUB, nameValidation: "label" }, [
      `FieldValueInvalid metadata.name: Invalid value: "${a64}": must be no more than 63 characters`,
    ]],
    ["path name anything", { name: "Any_Thing:x y" }, { ...SUB, nameValidation: "path" }, []],
    ["path name ..", { name: ".." }, { ...SUB, nameValidation: "path" }, [`FieldValueInvalid metadata.name: Invalid value: "..": may not be '..'`]],
    ["path name / and %", { name: "a/b%c" }, { ...SUB, nameValidation: "path" }, [
      `FieldValueInvalid metadata.name: Invalid value: "a/b%c": may not contain '/'`,
      `FieldValueInvalid metadata.name: Invalid value: "a/b%c": may not contain '%'`,
    ]],
    ["path generateName '.' allowed", { generateName: "." }, { ...SUB, nameValidation: "path" }, []],
    ["bad namespace", { name: "a", namespace: "Bad_NS" }, SUB, [`FieldValueInvalid metadata.namespace: Invalid value: "Bad_NS": ${LABEL_REGEX_MSG}`]],
    ["dotted namespace", { name: "a", namespace: "a.b" }, SUB, ['FieldValueInvalid metadata.namespace: Invalid value: "a.b": must not contain dots']],
    ["namespace on cluster-scoped", { name: "a", namespace: "default" }, { namespaced: false, nameValidation: "subdomain" }, [
      "FieldValueForbidden metadata.namespace: Forbidden: not allowed on this type",
    ]],
    ["empty namespace on cluster-scoped", { name: "a", namespace: "" }, { namespaced: false, nameValidation: "subdomain" }, []],
    ["scalar types", { name: 5, uid: 1, resourceVersion: 2, generation: "1", creationTimestamp: {} }, SUB, [
      "FieldValueInvalid metadata.name: Invalid value: 5: must be a string",
      "FieldValueInvalid metadata.uid: Invalid value: 1: must be a string",
      "FieldValueInvalid metadata.resourceVersion: Invalid value: 2: must be a string",
      "FieldValueInvalid metadata.creationTimestamp: Invalid value: {}: must be a string",
      'FieldValueInvalid metadata.generation: Invalid value: "1": must be an integer',
    ]],
    ["negative generation", { name: "a", generation: -1 }, SUB, ["FieldValueInvalid metadata.generation: Invalid value: -1: must be greater than or equal to 0"]],
    ["fractional generation", { name: "a", generation: 1.5 }, SUB, ["FieldValueInvalid metadata.generation: Invalid value: 1.5: must be an integer"]],
    ["labels and annotations", { name: "a", labels: { "-": "x" }, annotations: [] }, SUB, [
      `FieldValueInvalid metadata.labels: Invalid value: "-": ${NAME_PART_REGEX_MSG}`,
      "FieldValueInvalid metadata.annotations: Invalid value: []: must be an object",
    ]],
    ["finalizers not an array", { name: "a", finalizers: "x" }, SUB, ['FieldValueInvalid metadata.finalizers: Invalid value: "x": must be an array']],
    ["bad finalizers", { name: "a", finalizers: ["a/b/c", 3] }, SUB, [
      `FieldValueInvalid metadata.finalizers: Invalid value: "a/b/c": ${QUALIFIED_SLASHES_MSG}`,
      "FieldValueInvalid metadata.finalizers[1]: Invalid value: 3: must be a string",
    ]],
    ["orphan with foregroundDeletion", { name: "a", finalizers: ["orphan", "foregroundDeletion"] }, SUB, [
      'FieldValueInvalid metadata.finalizers: Invalid value: ["orphan","foregroundDeletion"]: finalizer orphan and foregroundDeletion cannot be both set',
    ]],
    ["owner reference missing fields", { name: "a", ownerReferences: [{}] }, SUB, [
      'FieldValueInvalid metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty',
      'FieldValueInvalid metadata.ownerReferences.kind: Invalid value: "": must not be empty',
      'FieldValueInvalid metadata.ownerReferences.name: Invalid value: "": must not be empty',
      'FieldValueInvalid metadata.ownerReferences.uid: Invalid value: "": must not be empty',
    ]],
    ["owner reference bad apiVersion", { name: "a", ownerReferences: [{ apiVersion: "apps/", kind: "K", name: "n", uid: "u" }] }, SUB, [
      'FieldValueInvalid metadata.ownerReferences.apiVersion: Invalid value: "apps/": version must not be empty',
    ]],
    ["owner reference types", { name: "a", ownerReferences: [5, { apiVersion: "v1", kind: 1, name: "n", uid: "u", controller: "yes" }] }, SUB, [
      "FieldValueInvalid metadata.ownerReferences[0]: Invalid value: 5: must be an object",
      "FieldValueInvalid metadata.ownerReferences[1].kind: Invalid value: 1: must be a string",
      'FieldValueInvalid metadata.ownerReferences[1].controller: Invalid value: "yes": must be a boolean',
      'FieldValueInvalid metadata.ownerReferences.kind: Invalid value: "": must not be empty',
    ]],
    ["Event owner banned", { name: "a", ownerReferences: [{ apiVersion: "v1", kind: "Event", name: "e", uid: "u" }] }, SUB, [
      'FieldValueInvalid metadata.ownerReferences: Invalid value: {"apiVersion":"v1","kind":"Event","name":"e","uid":"u"}: /v1, Kind=Event is disallowed from being an owner',
    ]],
    ["two controllers", {
      name: "a",
      ownerReferences: [
        { apiVersion: "v1", kind: "A", name: "x", uid: "1", controller: true },
        { apiVersion: "v1", kind: "B", name: "y", uid: "2", controller: true },
      ],
    }, SUB, [
      'FieldValueInvalid metadata.ownerReferences: Invalid value: [{"apiVersion":"v1","kind":"A","name":"x","uid":"1","controller":true},{"apiVersion":"v1","kind":"B","name":"y","uid":"2","controller":true}]: Only one reference can have Controller set to true. Found "true" in references for A/x and B/y',
    ]],
    ["managedFields type", { name: "a", managedFields: {} }, SUB, ["FieldValueInvalid metadata.managedFields: Invalid value: {}: must be an array"]],
    ["nulls are absent", { name: "a", namespace: null, labels: null, finalizers: null, ownerReferences: null, generation: null }, SUB, []],
  ];
  test.each(cases)("%s", (_name, meta, opts, want) => {
    expect(fields(validateObjectMeta(meta, opts))).toEqual(want);
  });
});

const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QNAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

describe("validation properties", () => {
  const charArb = fc.constantFrom("a", "z", "0", "9", "A", "Z", "-", ".", "_", "/", " ", "\u00e9");
  const strArb = fc.oneof(
    fc.array(charArb, { maxLength: 80 }).map((a) => a.join("")),
    fc.string({ maxLength: 20 }),
    fc.nat({ max: 300 }).map((n) => "a".repeat(n)),
  );

  test("hand-written checks agree with the upstream regexes and length limits", () => {
    fc.assert(
      fc.property(strArb, (v) => {
        const bytes = utf8Length(v);
        expect(isDNS1123Label(v).length === 0).toBe(bytes <= 63 && LABEL_RE.test(v));
        expect(isDNS1123Subdomain(v).length === 0).toBe(bytes <= 253 && SUBDOMAIN_RE.test(v));
        expect(isValidLabelValue(v).length === 0).toBe(v === "" || (bytes <= 63 && QNAME_RE.test(v)));
        const parts = v.split("/");
        const qualified =
          parts.length === 1
            ? bytes <= 63 && QNAME_RE.test(v)
            : parts.length === 2 &&
              utf8Length(parts[0] ?? "") <= 253 &&
              SUBDOMAIN_RE.test(parts[0] ?? "") &&
              utf8Length(parts[1] ?? "") <= 63 &&
              QNAME_RE.test(parts[1] ?? "");
        expect(isQualifiedName(v).length === 0).toBe(qualified);
      }),
      { numRuns: 3000 },
    );
  });

  test("validators never throw on arbitrary JSON and only emit known reasons", () => {
    const reasons = new Set(["FieldValueInvalid", "FieldValueRequired", "FieldValueForbidden", "FieldValueTooLong"]);
    fc.assert(
      fc.property(fc.anything(), fc.boolean(), fc.constantFrom("subdomain" as const, "label" as const, "path" as const), (meta, namespaced, how) => {
        const causes = [
          ...validateObjectMeta(meta, { namespaced, nameValidation: how }),
          ...validateLabels(meta, "x"),
          ...validateAnnotations(meta, "y"),
        ];
        for (const c of causes) {
          expect(reasons.has(c.reason)).toBe(true);
          expect(typeof c.message).toBe("string");
        }
      }),
      { numRuns: 1000 },
    );
  });
});
