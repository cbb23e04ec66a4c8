/**
 * @module Fuzzing: random bytes, random raw payloads for every supported kind
 * and random mutations of the real kubectl fixtures either decode to
 * JSON-serializable objects or throw an ApiError 400/415 — nothing else.
 */

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ApiError } from "../../api/errors.ts";
import { decodeKubernetesProtobuf, PROTOBUF_MAGIC, SUPPORTED_KINDS } from "./index.ts";
import fixtureDoc from "./testdata/kubectl-fixtures.json";
import { envelope } from "./testdata/proto-writer.ts";

const bodies: Uint8Array[] = (fixtureDoc as { fixtures: { requests: { contentType: string; bodyBase64: string }[] }[] }).fixtures
  .flatMap((f) => f.requests)
  .filter((r) => r.contentType === "application/vnd.kubernetes.protobuf")
  .map((r) => new Uint8Array(Buffer.from(r.bodyBase64, "base64")));

/** Decodes and classifies: "ok" (and serializable) or the ApiError code; rethrows anything else. */
function outcome(bytes: Uint8Array): "ok" | 400 | 415 {
  try {
    const out = decodeKubernetesProtobuf(bytes);
    JSON.stringify(out);
    return "ok";
  } catch (e) {
    if (e instanceof ApiError && (e.code === 400 || e.code === 415)) return e.code as 400 | 415;
    throw e;
  }
}

type Mutation =
  | { op: "flip"; at: number; bit: number }
  | { op: "set"; at: number; value: number }
  | { op: "truncate"; at: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; len: number }
  | { op: "duplicate"; at: number; len: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant("duplicate" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
);

function mutate(src: Uint8Array, muts: readonly Mutation[]): Uint8Array {
  let b = Array.from(src);
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    switch (m.op) {
      case "flip":
        if (b.length) b[at] = (b[at] as number) ^ (1 << m.bit);
        break;
      case "set":
        if (b.length) b[at] = m.value;
        break;
      case "truncate":
        b = b.slice(0, at);
        break;
      case "insert":
        b.splice(at, 0, ...m.bytes);
        break;
      case "delete":
        b.splice(at, m.len);
        break;
      case "duplicate":
        b.splice(at, 0, ...b.slice(at, at + m.len));
        break;
    }
  }
  return new Uint8Array(b);
}

describe("fuzz: only 400/415 ApiErrors, never a crash", () => {
  test("random bytes, with and without the magic prefix", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.boolean(), (raw, withMagic) => {
        const bytes = withMagic ? new Uint8Array([...PROTOBUF_MAGIC, ...raw]) : raw;
        expect(["ok", 400, 415]).toContain(outcome(bytes));
      }),
      { numRuns: 3000, seed: 0x6b387300 },
    );
  });

  test("random raw payloads inside a valid envelope for every supported kind", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SUPPORTED_KINDS),
        fc.uint8Array({ maxLength: 300 }),
        (k, raw) => {
          expect(["ok", 400]).toContain(outcome(envelope(k.apiVersion, k.kind, raw)));
        },
      ),
      { numRuns: 4000, seed: 42 },
    );
  });

  test("mutations of the real kubectl fixtures", () => {
    expect(bodies.length).toBeGreaterThan(30);
    fc.assert(
      fc.property(fc.constantFrom(...bodies), fc.array(mutation, { minLength: 1, maxLength: 4 }), (body, muts) => {
        expect(["ok", 400, 415]).toContain(outcome(mutate(body, muts)));
      }),
      { numRuns: 5000, seed: 7 },
    );
  });

  test("every single-bit flip of a rich fixture (the Job copied from a CronJob)", () => {
    const rich = bodies.reduce((a, b) => (b.length > a.length ? b : a));
    let ok = 0;
    for (let i = 0; i < rich.length * 8; i += 3) {
      if (outcome(mutate(rich, [{ op: "flip", at: i >> 3, bit: i & 7 }])) === "ok") ok++;
    }
    expect(ok).toBeGreaterThan(0);
    // ~1.5 s on a quiet machine; CI shares two cores with other suites.
  }, 30_000);
});
