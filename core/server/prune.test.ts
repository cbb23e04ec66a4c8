import { describe, expect, test } from "bun:test";
import type { Schema } from "../api/schema.ts";
import { prune } from "./prune.ts";

const container: Schema = { type: "object", properties: { name: { type: "string" }, image: { type: "string" } } };
const schema: Schema = {
  type: "object",
  properties: {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    metadata: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
    spec: {
      type: "object",
      properties: {
        containers: { type: "array", items: container },
        labels: { type: "object", additionalProperties: { type: "string" } },
        raw: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        via: { allOf: [{ type: "object", properties: { kept: { type: "string" } } }] },
      },
    },
  },
};

describe("prune", () => {
  test("drops unknown fields at every level and keeps maps, preserved subtrees and allOf members", () => {
    const input = {
      apiVersion: "v1",
      kind: "X",
      metadata: { name: "a", anything: 1 },
      bogus: true,
      spec: {
        containers: [{ name: "c", image: "i", imagee: "typo" }],
        labels: { a: "b" },
        raw: { deep: { x: 1 } },
        via: { kept: "y", dropped: "z" },
        unknown: 1,
      },
    };
    expect(prune(schema, input)).toEqual({
      apiVersion: "v1",
      kind: "X",
      metadata: { name: "a", anything: 1 },
      spec: { containers: [{ name: "c", image: "i" }], labels: { a: "b" }, raw: { deep: { x: 1 } }, via: { kept: "y" } },
    });
  });

  test("does not change its input", () => {
    const input = { spec: { unknown: 1 } };
    prune(schema, input);
    expect(input).toEqual({ spec: { unknown: 1 } });
  });
});
