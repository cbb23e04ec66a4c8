/** @module Tests for humanDuration: upstream's own table (duration_test.go) plus boundaries. */
import { describe, expect, test } from "bun:test";
import { humanDuration, shortHumanDuration, timeSince } from "./duration.ts";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe("humanDuration", () => {
  const cases: [number, string][] = [
    [S, "1s"],
    [70 * S, "70s"],
    [190 * S, "3m10s"],
    [70 * M, "70m"],
    [47 * H, "47h"],
    [49 * H, "2d1h"],
    [(8 * 24 + 2) * H, "8d"],
    [367 * D, "367d"],
    [(365 * 2 * 24 + 25) * H, "2y1d"],
    [(365 * 8 * 24 + 2) * H, "8y"],
  ];
  for (const [d, want] of cases) test(`${d}ms → ${want}`, () => expect(humanDuration(d)).toBe(want));

  const boundaries: [number, string][] = [
    [-2 * S, "<invalid>"],
    [-2 * S + 1, "0s"],
    [0, "0s"],
    [S - 1, "0s"],
    [2 * M - 1, "119s"],
    [2 * M, "2m"],
    [2 * M + S, "2m1s"],
    [10 * M - 1, "9m59s"],
    [10 * M, "10m"],
    [10 * M + S, "10m"],
    [3 * H - 1, "179m"],
    [3 * H, "3h"],
    [3 * H + M, "3h1m"],
    [8 * H - 1, "7h59m"],
    [8 * H, "8h"],
    [8 * H + 59 * M, "8h"],
    [2 * D - 1, "47h"],
    [2 * D, "2d"],
    [2 * D + H, "2d1h"],
    [8 * D - 1, "7d23h"],
    [8 * D, "8d"],
    [8 * D + 23 * H, "8d"],
    [2 * 365 * D - 1, "729d"],
    [2 * 365 * D, "2y"],
    [2 * 365 * D + 23 * H, "2y"],
    [2 * 365 * D + 23 * H + 59 * M, "2y"],
    [2 * 365 * D + D - 1, "2y"],
    [2 * 365 * D + D, "2y1d"],
    [3 * 365 * D, "3y"],
    [7 * 365 * D, "7y"],
    [8 * 365 * D - 1, "7y364d"],
    [8 * 365 * D, "8y"],
    [8 * 365 * D + 364 * D, "8y"],
    [9 * 365 * D, "9y"],
  ];
  for (const [d, want] of boundaries) test(`boundary ${d}ms → ${want}`, () => expect(humanDuration(d)).toBe(want));
});

describe("shortHumanDuration", () => {
  const cases: [number, string][] = [
    [-2 * S, "<invalid>"],
    [-2 * S + 1, "0s"],
    [0, "0s"],
    [S - 1, "0s"],
    [S, "1s"],
    [2 * S - 1, "1s"],
    [M - 1, "59s"],
    [M, "1m"],
    [2 * M - 1, "1m"],
    [H - 1, "59m"],
    [H, "1h"],
    [2 * H - 1, "1h"],
    [D - 1, "23h"],
    [D, "1d"],
    [2 * D - 1, "1d"],
    [365 * D - 1, "364d"],
    [365 * D, "1y"],
    [2 * 365 * D - 1, "1y"],
    [2 * 365 * D, "2y"],
  ];
  for (const [d, want] of cases) test(`${d}ms → ${want}`, () => expect(shortHumanDuration(d)).toBe(want));
});

describe("timeSince", () => {
  test("missing timestamp is <unknown>", () => {
    expect(timeSince(undefined, 0)).toBe("<unknown>");
    expect(timeSince("", 0)).toBe("<unknown>");
    expect(timeSince("garbage", 0)).toBe("<unknown>");
  });
  test("age from an RFC 3339 timestamp", () => {
    const now = Date.parse("2024-05-01T12:05:03Z");
    expect(timeSince("2024-05-01T12:00:00Z", now)).toBe("5m3s");
  });
});
