/** @module Tests for Quantity parsing and canonical formatting against upstream's behaviour. */
import { describe, expect, test } from "bun:test";
import { QUANTITY_FORMAT_ERROR, canonicalQuantity, compareQuantity, formatQuantity, parseQuantity, roundUpToMilli } from "./quantity.ts";

describe("canonicalQuantity", () => {
  const cases: [string | number, string][] = [
    ["0", "0"],
    ["0Mi", "0"],
    ["100m", "100m"],
    ["1000m", "1"],
    ["1500m", "1500m"],
    ["0.5", "500m"],
    ["1.5", "1500m"],
    ["1", "1"],
    [1, "1"],
    [0.25, "250m"],
    ["1000", "1k"],
    ["1200", "1200"],
    ["1000000", "1M"],
    ["128974848", "128974848"],
    ["129e6", "129e6"],
    ["1e3", "1e3"],
    ["1.5e3", "1500"],
    ["123Mi", "123Mi"],
    ["1024Mi", "1Gi"],
    ["2048Ki", "2Mi"],
    ["1.5Gi", "1536Mi"],
    ["0.5Ki", "512"],
    ["1Ki", "1Ki"],
    ["1k", "1k"],
    ["10G", "10G"],
    ["-1", "-1"],
    ["-100m", "-100m"],
    ["+5", "5"],
    ["0.1n", "1n"],
    [".5", "500m"],
    ["5.", "5"],
  ];
  for (const [input, want] of cases) test(`${JSON.stringify(input)} → ${want}`, () => expect(canonicalQuantity(input)).toBe(want));
});

describe("parseQuantity errors", () => {
  for (const bad of ["", "abc", "1Q", "--1", "1 Mi", "Mi"]) {
    test(JSON.stringify(bad), () => expect("error" in (parseQuantity(bad) as object)).toBe(true));
  }
  test("format error message is upstream's", () => {
    expect(parseQuantity("abc")).toEqual({ error: QUANTITY_FORMAT_ERROR });
  });
  test("suffix error", () => {
    expect(parseQuantity("1Zi")).toEqual({ error: QUANTITY_FORMAT_ERROR });
    expect(parseQuantity("1mm")).toEqual({ error: "unable to parse quantity's suffix" });
  });
});

describe("compare and round", () => {
  const q = (s: string) => {
    const r = parseQuantity(s);
    if ("error" in r) throw new Error(r.error);
    return r;
  };
  test("equal values in different formats compare equal", () => {
    expect(compareQuantity(q("1"), q("1000m"))).toBe(0);
    expect(compareQuantity(q("1Gi"), q("1073741824"))).toBe(0);
    expect(compareQuantity(q("500m"), q("1"))).toBe(-1);
  });
  test("round up to milli", () => {
    expect(formatQuantity(roundUpToMilli(q("0.0001")))).toBe("1m");
    expect(formatQuantity(roundUpToMilli(q("100u")))).toBe("1m");
    expect(formatQuantity(roundUpToMilli(q("1500m")))).toBe("1500m");
  });
});
