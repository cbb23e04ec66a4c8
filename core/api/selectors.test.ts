/** @module Tests for label/field selector parsing, matching and canonical printing. */
import { describe, test, expect } from "bun:test";
import fc from "fast-check";
import { ApiError, isApiError } from "./errors.ts";
import {
  escapeFieldValue,
  labelSelectorFromObject,
  labelSelectorFromSet,
  parseFieldSelector,
  parseLabelSelector,
  unescapeFieldValue,
  type LabelSelectorObject,
} from "./selectors.ts";

function badRequest(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (isApiError(e, "BadRequest")) return e;
    throw new Error(`expected a BadRequest ApiError, got ${String(e)}`);
  }
  throw new Error("expected a BadRequest ApiError, nothing was thrown");
}

describe("parseLabelSelector: canonical form", () => {
  const cases: [string, string][] = [
    ["", ""],
    ["   \t\n ", ""],
    ["a=b", "a=b"],
    ["a==b", "a=b"],
    ["a!=b", "a!=b"],
    ["k=", "k="],
    ["k!=", "k!="],
    ["k==", "k="],
    ["a", "a"],
    ["!a", "!a"],
    ["  ! a  ", "!a"],
    ["x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"],
    ["k in ()", "k in ()"],
    ["k in (,)", "k in ()"],
    ["k in (a,)", "k in (,a)"],
    ["k in ( b , a , b )", "k in (a,b)"],
    ["k notin (b,a)", "k notin (a,b)"],
    ["in in (in)", "in in (in)"],
    ["notin notin (notin,in)", "notin notin (in,notin)"],
    ["a=in,b=notin", "a=in,b=notin"],
    ["z=1, a=2 ,m", "a=2,m,z=1"],
    ["example.com/app=web", "example.com/app=web"],
    ["a.b-c_d=E.f-G_h", "a.b-c_d=E.f-G_h"],
    ["a=b,a=b", "a=b,a=b"],
    ["a=b,!a,a", "!a,a,a=b"],
    ["k in (,,,)", "k in ()"],
    ["k in (a,,b)", "k in (,a,b)"],
    ["k in (,,b)", "k in (,b)"],
  ];
  test.each(cases)("%p prints as %p", (input, canonical) => {
    const sel = parseLabelSelector(input);
    expect(sel.toString()).toBe(canonical);
    expect(parseLabelSelector(canonical).toString()).toBe(canonical);
    expect(sel.empty).toBe(canonical === "");
  });

  test("requirements are exposed normalized and frozen", () => {
    const sel = parseLabelSelector("b in (y,x,y), a==1");
    expect(sel.requirements).toEqual([
      { key: "a", operator: "=", values: ["1"] },
      { key: "b", operator: "in", values: ["x", "y"] },
    ]);
    expect(Object.isFrozen(sel.requirements)).toBe(true);
    expect(() => (sel.requirements[0]?.values as string[]).push("z")).toThrow();
  });
});

describe("parseLabelSelector: matching", () => {
  const L = (o: Record<string, string>) => o;
  const cases: [string, Record<string, string> | undefined, boolean][] = [
    ["", undefined, true],
    ["", L({ a: "b" }), true],
    ["a=b", L({ a: "b" }), true],
    ["a=b", L({ a: "c" }), false],
    ["a=b", L({}), false],
    ["a=b", undefined, false],
    ["a==b", L({ a: "b", c: "d" }), true],
    ["a!=b", L({ a: "c" }), true],
    ["a!=b", L({ a: "b" }), false],
    ["a!=b", L({}), true],
    ["a!=b", undefined, true],
    ["k=", L({ k: "" }), true],
    ["k=", L({}), false],
    ["k!=", L({ k: "" }), false],
    ["k!=", L({}), true],
    ["a in (x,y)", L({ a: "y" }), true],
    ["a in (x,y)", L({ a: "z" }), false],
    ["a in (x,y)", L({}), false],
    ["a in ()", L({ a: "" }), true],
    ["a in ()", L({ a: "x" }), false],
    ["a notin (x,y)", L({ a: "z" }), true],
    ["a notin (x,y)", L({ a: "x" }), false],
    ["a notin (x,y)", L({}), true],
    ["a notin (x)", L({ a: "x" }), false],
    ["a", L({ a: "" }), true],
    ["a", L({ b: "a" }), false],
    ["!a", L({ b: "a" }), true],
    ["!a", L({ a: "" }), false],
    ["a=b,c=d", L({ a: "b", c: "d" }), true],
    ["a=b,c=d", L({ a: "b", c: "e" }), false],
    ["a=b,!c", L({ a: "b" }), true],
    ["constructor", L({}), false],
    ["!toString", L({}), true],
    ["hasOwnProperty!=x", L({}), true],
  ];
  test.each(cases)("%p against %p is %p", (sel, labels, expected) => {
    expect(parseLabelSelector(sel).matches(labels)).toBe(expected);
  });
});

describe("parseLabelSelector: errors", () => {
  const cases: [string, string][] = [
    ["a,", "found '', expected: identifier after ','"],
    [",a", "found ',', expected: !, identifier, or 'end of string'"],
    ["a,,b", "found ',', expected: identifier after ','"],
    ["=a", "found '=', expected: !, identifier, or 'end of string'"],
    ["a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !="],
    ["a=b c", "found 'c', expected: ',' or 'end of string'"],
    ["!a=b", "found '=', expected: ',' or 'end of string'"],
    ["!!a", "unable to parse requirement: found '!', expected: identifier"],
    ["!", "unable to parse requirement: found '', expected: identifier"],
    ["a=(b)", "unable to parse requirement: found '(', expected: identifier"],
    ["a===b", "unable to parse requirement: found '=', expected: identifier"],
    ["a in b", "unable to parse requirement: found 'b' expected: '('"],
    ["a notin", "unable to parse requirement: found '' expected: '('"],
    ["a in (b", "unable to parse requirement: found '', expected: ',' or ')'"],
    ["a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"],
    ["a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ["a in (b,=)", "unable to parse requirement: found '=', expected: ',', or identifier"],
    ["a>1", "unable to parse requirement: found '>', the Gt and Lt operators are not supported"],
    ["a<1", "unable to parse requirement: found '<', the Gt and Lt operators are not supported"],
    ["-a", 'unable to parse requirement: key: Invalid value: "-a": name part must consist of alphanumeric'],
    ["a-=b", 'key: Invalid value: "a-"'],
    ["a/b/c", 'key: Invalid value: "a/b/c": a qualified name must consist of'],
    ["/a", 'key: Invalid value: "/a": prefix part must be non-empty'],
    ["Example.com/a", 'key: Invalid value: "Example.com/a": prefix part a lowercase RFC 1123 subdomain'],
    [`${"k".repeat(64)}=v`, "name part must be no more than 63 characters"],
    ["a=b/c", 'unable to parse requirement: values[0][a]: Invalid value: "b/c": a valid label must be an empty string'],
    ["a=-b", 'values[0][a]: Invalid value: "-b"'],
    ["a=b-", 'values[0][a]: Invalid value: "b-"'],
    [`a=${"v".repeat(64)}`, "must be no more than 63 characters"],
    ["a in (ok,-x,y-)", '[values[0][a]: Invalid value: "-x": a valid label'],
    ["a in (ok,-x,y-)", '(e.g. \'MyValue\',  or \'my_value\',  or \'12345\', regex used for validation is'],
    ["a in (,,)", "unable to parse requirement: found ')', expected: ',', or identifier"],
    ["a in (b,,)", "unable to parse requirement: found ')', expected: ',', or identifier"],
    ["a=\u00e9", 'values[0][a]: Invalid value: "\u00e9"'],
    ["a\u0000=b", 'key: Invalid value: "a\\x00"'],
  ];
  test.each(cases)("%p → %p", (input, message) => {
    const e = badRequest(() => parseLabelSelector(input));
    expect(e.code).toBe(400);
    expect(e.message).toContain(message);
  });

  test("63-character names and values are accepted, with a 253-character prefix", () => {
    const prefix = `${"p".repeat(63)}.${"q".repeat(63)}.${"r".repeat(63)}.${"s".repeat(61)}`;
    expect(prefix.length).toBe(253);
    const sel = parseLabelSelector(`${prefix}/${"n".repeat(63)}=${"v".repeat(63)}`);
    expect(sel.matches({ [`${prefix}/${"n".repeat(63)}`]: "v".repeat(63) })).toBe(true);
    badRequest(() => parseLabelSelector(`${prefix}x/n=v`));
  });

  test("pathological inputs are handled in linear time", () => {
    const started = performance.now();
    expect(parseLabelSelector(Array.from({ length: 50_000 }, (_, i) => `k${i}=v`).join(",")).requirements.length).toBe(50_000);
    expect(parseLabelSelector(`k in (${"a,".repeat(100_000)},b)`).requirements[0]?.values).toEqual(["", "a", "b"]);
    badRequest(() => parseLabelSelector("(".repeat(200_000)));
    badRequest(() => parseLabelSelector("a".repeat(1_000_000)));
    badRequest(() => parseLabelSelector(`a=${"-".repeat(1_000_000)}`));
    badRequest(() => parseLabelSelector(`${"a.".repeat(300_000)}/b`));
    badRequest(() => parseFieldSelector("\\".repeat(1_000_001)));
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe("labelSelectorFromObject", () => {
  test("undefined, null and empty selectors match everything", () => {
    for (const sel of [undefined, null, {}, { matchLabels: {}, matchExpressions: [] }]) {
      const s = labelSelectorFromObject(sel);
      expect(s.empty).toBe(true);
      expect(s.matches({ any: "thing" })).toBe(true);
      expect(s.matches(undefined)).toBe(true);
    }
  });

  test("matchLabels and matchExpressions are ANDed", () => {
    const s = labelSelectorFromObject({
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["fe", "be", "fe"] },
        { key: "env", operator: "NotIn", values: ["dev"] },
        { key: "owner", operator: "Exists" },
        { key: "legacy", operator: "DoesNotExist", values: [] },
      ],
    });
    expect(s.toString()).toBe("app=web,env notin (dev),!legacy,owner,tier in (be,fe)");
    expect(s.matches({ app: "web", tier: "fe", owner: "x" })).toBe(true);
    expect(s.matches({ app: "web", tier: "fe", owner: "x", env: "prod" })).toBe(true);
    expect(s.matches({ app: "web", tier: "fe", owner: "x", env: "dev" })).toBe(false);
    expect(s.matches({ app: "web", tier: "fe", owner: "x", legacy: "" })).toBe(false);
    expect(s.matches({ app: "web", tier: "qa", owner: "x" })).toBe(false);
    expect(s.matches({ app: "web", tier: "fe" })).toBe(false);
    expect(s.matches({ tier: "fe", owner: "x" })).toBe(false);
    expect(parseLabelSelector(s.toString()).requirements).toEqual(s.requirements);
  });

  const bad: [unknown, string][] = [
    [{ matchExpressions: [{ key: "a", operator: "In", values: [] }] }, "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"],
    [{ matchExpressions: [{ key: "a", operator: "NotIn" }] }, "for 'in', 'notin' operators, values set can't be empty"],
    [{ matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] }, 'values: Invalid value: ["x"]: values set must be empty for exists and does not exist'],
    [{ matchExpressions: [{ key: "a", operator: "Gt", values: ["1"] }] }, '"Gt" is not a valid label selector operator'],
    [{ matchExpressions: [{ key: "a", operator: "in", values: ["1"] }] }, '"in" is not a valid label selector operator'],
    [{ matchExpressions: [{ key: "a" }] }, '"" is not a valid label selector operator'],
    [{ matchExpressions: [{ key: "a b", operator: "Exists" }] }, 'key: Invalid value: "a b"'],
    [{ matchExpressions: [{ key: 1, operator: "Exists" }] }, "matchExpressions[0].key: Invalid value: 1: must be a string"],
    [{ matchExpressions: [{ key: "a", operator: "In", values: "x" }] }, "must be an array of strings"],
    [{ matchExpressions: {} }, "matchExpressions: Invalid value: {}: must be an array"],
    [{ matchLabels: { "a/b/c": "x" } }, 'key: Invalid value: "a/b/c"'],
    [{ matchLabels: { a: "x y" } }, 'values[0][a]: Invalid value: "x y"'],
    [{ matchLabels: { a: 1 } }, "matchLabels[a]: Invalid value: 1: must be a string"],
    [{ matchLabels: [] }, "matchLabels: Invalid value: []: must be an object"],
    ["a=b", 'label selector: Invalid value: "a=b": must be an object'],
  ];
  test.each(bad)("%p is rejected with %p", (sel, message) => {
    expect(badRequest(() => labelSelectorFromObject(sel as LabelSelectorObject)).message).toContain(message);
  });

  test("labelSelectorFromSet requires every pair", () => {
    const s = labelSelectorFromSet({ b: "2", a: "1" });
    expect(s.toString()).toBe("a=1,b=2");
    expect(s.matches({ a: "1", b: "2", c: "3" })).toBe(true);
    expect(s.matches({ a: "1" })).toBe(false);
    expect(labelSelectorFromSet({}).empty).toBe(true);
    badRequest(() => labelSelectorFromSet({ "-": "x" }));
  });
});

describe("parseFieldSelector", () => {
  const cases: [string, string, Record<string, string>, boolean][] = [
    ["", "", {}, true],
    [",,", "", {}, true],
    ["metadata.name=foo", "metadata.name=foo", { "metadata.name": "foo" }, true],
    ["metadata.name==foo", "metadata.name=foo", { "metadata.name": "bar" }, false],
    ["metadata.name!=foo", "metadata.name!=foo", { "metadata.name": "bar" }, true],
    ["metadata.name!=foo", "metadata.name!=foo", {}, true],
    ["spec.nodeName=", "spec.nodeName=", {}, true],
    ["spec.nodeName=", "spec.nodeName=", { "spec.nodeName": "n1" }, false],
    ["spec.nodeName!=", "spec.nodeName!=", {}, false],
    ["spec.nodeName!=", "spec.nodeName!=", { "spec.nodeName": "n1" }, true],
    ["b=2,a=1", "a=1,b=2", { a: "1", b: "2" }, true],
    ["b=2,a=1", "a=1,b=2", { a: "1", b: "3" }, false],
    ["a=x\\,y", "a=x\\,y", { a: "x,y" }, true],
    ["a=x\\=y\\\\", "a=x\\=y\\\\", { a: "x=y\\" }, true],
    ["a=x\\,y,b=z", "a=x\\,y,b=z", { a: "x,y", b: "z" }, true],
    [" a = b ", " a = b ", { " a ": " b " }, true],
    [" a = b ", " a = b ", { a: "b" }, false],
    ["=x", "=x", { "": "x" }, true],
    ["a!b=c", "a!b=c", { "a!b": "c" }, true],
    ["toString=", "toString=", {}, true],
  ];
  test.each(cases)("%p (canonical %p) against %p is %p", (input, canonical, fields, expected) => {
    const sel = parseFieldSelector(input);
    expect(sel.toString()).toBe(canonical);
    expect(sel.matches(fields)).toBe(expected);
    expect(parseFieldSelector(canonical).toString()).toBe(canonical);
    expect(sel.empty).toBe(canonical === "");
  });

  test("requirements are exposed unescaped", () => {
    expect(parseFieldSelector("b!=x\\,y,a==1").requirements).toEqual([
      { field: "a", operator: "=", value: "1" },
      { field: "b", operator: "!=", value: "x,y" },
    ]);
  });

  const bad: [string, string][] = [
    ["a", "invalid selector: 'a'; can't understand 'a'"],
    ["a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"],
    ["a!b", "invalid selector: 'a!b'; can't understand 'a!b'"],
    ["a=b=c", "invalid field selector: unescaped character in value: ="],
    ["a!==b", "invalid field selector: unescaped character in value: ="],
    ["a=\\x", "invalid field selector: invalid escape sequence: \\x"],
    ["a=b\\", "invalid field selector: invalid escape sequence: \\"],
    ["a in (b)", "invalid selector: 'a in (b)'; can't understand 'a in (b)'"],
  ];
  test.each(bad)("%p → %p", (input, message) => {
    expect(badRequest(() => parseFieldSelector(input)).message).toBe(message);
  });

  test("allowedFields refuses unknown fields with the kube-apiserver message", () => {
    const allowed = ["metadata.name", "metadata.namespace", "spec.nodeName"];
    for (const a of [allowed, new Set(allowed)]) {
      expect(parseFieldSelector("spec.nodeName=n1,metadata.name!=x", a).requirements.length).toBe(2);
      expect(badRequest(() => parseFieldSelector("metadata.name=x,status.phase=Running", a)).message).toBe(
        "field label not supported: status.phase",
      );
      expect(badRequest(() => parseFieldSelector(" metadata.name=x", a)).message).toBe("field label not supported:  metadata.name");
      expect(parseFieldSelector("", a).empty).toBe(true);
    }
  });

  test("escapeFieldValue / unescapeFieldValue", () => {
    expect(escapeFieldValue("a,b=c\\d")).toBe("a\\,b\\=c\\\\d");
    expect(unescapeFieldValue("a\\,b\\=c\\\\d")).toBe("a,b=c\\d");
    expect(unescapeFieldValue("plain")).toBe("plain");
    expect(badRequest(() => unescapeFieldValue("\\\u{1F600}")).message).toBe("invalid field selector: invalid escape sequence: \\\u{1F600}");
  });
});

const KEYS = ["app", "tier", "env", "in", "notin", "example.com/team", "x.y_z-1"];
const VALUES = ["", "a", "b", "prod", "in", "x-1.y_2"];
const keyArb = fc.constantFrom(...KEYS);
const valueArb = fc.constantFrom(...VALUES);
const labelsArb = fc.dictionary(keyArb, valueArb, { maxKeys: KEYS.length });
const wsArb = fc.constantFrom("", " ", "  ", "\t", "\n");

type Spec =
  | { op: "=" | "==" | "!="; key: string; value: string }
  | { op: "in" | "notin"; key: string; values: string[] }
  | { op: "exists" | "!"; key: string };

const specArb: fc.Arbitrary<Spec> = fc.oneof(
  fc.record({ op: fc.constantFrom("=" as const, "==" as const, "!=" as const), key: keyArb, value: valueArb }),
  fc.record({ op: fc.constantFrom("in" as const, "notin" as const), key: keyArb, values: fc.array(valueArb, { minLength: 1, maxLength: 4 }) }),
  fc.record({ op: fc.constantFrom("exists" as const, "!" as const), key: keyArb }),
);

/** Upstream rejects some runs of empty entries (`(,,)`, `(a,,)`), so at most one "" is rendered, first. */
function parsableList(values: string[]): string[] {
  const rest = values.filter((v) => v !== "");
  return rest.length === values.length ? rest : ["", ...rest];
}

function render(spec: Spec, ws: string): string {
  switch (spec.op) {
    case "exists":
      return `${ws}${spec.key}${ws}`;
    case "!":
      return `${ws}!${ws}${spec.key}${ws}`;
    case "in":
    case "notin":
      return `${ws}${spec.key} ${ws}${spec.op}${ws}(${parsableList(spec.values).map((v) => `${ws}${v}${ws}`).join(",")})${ws}`;
    default:
      return `${ws}${spec.key}${ws}${spec.op}${ws}${spec.value}${ws}`;
  }
}

function oracle(specs: Spec[], labels: Record<string, string>): boolean {
  return specs.every((s) => {
    const has = Object.hasOwn(labels, s.key);
    const v = labels[s.key];
    switch (s.op) {
      case "=":
      case "==":
        return has && v === s.value;
      case "!=":
        return !has || v !== s.value;
      case "in":
        return has && s.values.includes(v as string);
      case "notin":
        return !has || !s.values.includes(v as string);
      case "exists":
        return has;
      case "!":
        return !has;
    }
  });
}

function throwsOnlyBadRequest(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    return e instanceof ApiError && e.reason === "BadRequest" && e.code === 400;
  }
}

const garbageArb = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc
    .array(fc.constantFrom("a", "B", "=", "==", "!=", "!", "in", "notin", "(", ")", ",", " ", "\t", "x.io/", "-", "_", ".", ">", "<", "\\", "\u00e9", "\u0000", "/"), {
      maxLength: 30,
    })
    .map((parts) => parts.join("")),
);

describe("selector properties", () => {
  test("parse(sel.toString()) matches exactly the same label sets as sel, and both agree with an oracle", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(specArb, wsArb), { maxLength: 6 }), fc.array(labelsArb, { minLength: 1, maxLength: 8 }), (reqs, labelSets) => {
        const specs = reqs.map(([s]) => s);
        const sel = parseLabelSelector(reqs.map(([s, ws]) => render(s, ws)).join(","));
        const again = parseLabelSelector(sel.toString());
        expect(again.toString()).toBe(sel.toString());
        expect(again.requirements).toEqual(sel.requirements);
        for (const labels of labelSets) {
          const want = oracle(specs, labels);
          expect(sel.matches(labels)).toBe(want);
          expect(again.matches(labels)).toBe(want);
        }
      }),
      { numRuns: 500 },
    );
  });

  test("garbage never throws anything but a BadRequest ApiError", () => {
    fc.assert(
      fc.property(garbageArb, (s) => {
        expect(throwsOnlyBadRequest(() => parseLabelSelector(s).toString())).toBe(true);
        expect(throwsOnlyBadRequest(() => parseFieldSelector(s, ["a"]).toString())).toBe(true);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.anything(), (obj) => {
        expect(throwsOnlyBadRequest(() => labelSelectorFromObject(obj as LabelSelectorObject))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const edgeArb = fc.constantFrom(...alnum);
  const middleArb = fc.array(fc.constantFrom(...alnum, "-", "_", "."), { maxLength: 20 }).map((a) => a.join(""));
  const nameArb = fc.tuple(edgeArb, middleArb, edgeArb).map(([a, m, b]) => `${a}${m}${b}`.slice(0, 63));
  const labelNameArb = nameArb.filter((n) => /[A-Za-z0-9]$/.test(n));
  const prefixArb = fc.constantFrom("", "example.com/", "k8s.io/", "a-b.c/");
  const validMapArb = fc.dictionary(fc.tuple(prefixArb, labelNameArb).map(([p, n]) => p + n), fc.oneof(fc.constant(""), labelNameArb), {
    maxKeys: 8,
  });

  test("a valid label map satisfies the selector built from its own k=v pairs, and only while unchanged", () => {
    fc.assert(
      fc.property(validMapArb, (labels) => {
        const text = Object.entries(labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(",");
        const sel = parseLabelSelector(text);
        expect(sel.matches(labels)).toBe(true);
        expect(labelSelectorFromSet(labels).matches(labels)).toBe(true);
        expect(labelSelectorFromSet(labels).toString()).toBe(sel.toString());
        const keys = Object.keys(labels);
        const first = keys[0];
        if (first === undefined) return;
        const { [first]: removed, ...rest } = labels;
        expect(sel.matches(rest)).toBe(false);
        expect(sel.matches({ ...labels, [first]: `${removed}x` })).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  test("field selectors round-trip arbitrary values through escaping", () => {
    const fieldArb = fc.constantFrom("metadata.name", "metadata.namespace", "spec.nodeName", "status.phase");
    fc.assert(
      fc.property(fc.dictionary(fieldArb, fc.string({ maxLength: 12 }), { maxKeys: 4 }), fc.boolean(), (fields, negate) => {
        const op = negate ? "!=" : "=";
        const sel = parseFieldSelector(
          Object.entries(fields)
            .map(([f, v]) => `${f}${op}${escapeFieldValue(v)}`)
            .join(","),
        );
        expect(sel.requirements.map((r) => r.value).sort()).toEqual(Object.values(fields).sort());
        expect(parseFieldSelector(sel.toString()).requirements).toEqual(sel.requirements);
        expect(sel.matches(fields)).toBe(negate ? Object.keys(fields).length === 0 : true);
      }),
      { numRuns: 500 },
    );
  });
});
