/**
 * @module Integrity of the descriptor tables: every table parses, every
 * referenced type exists, every supported kind resolves, and every message
 * renders its Go zero value.
 */

import { describe, expect, test } from "bun:test";
import { parseMessage } from "./descriptors.ts";
import { decodeMessage, SUPPORTED_KINDS, supportedKindNames, supportedMessageFor } from "./index.ts";
import { isKnownMessage, messages } from "./registry.ts";

describe("descriptor tables", () => {
  test("every field type refers to a scalar, a table message or a wrapper", () => {
    const missing: string[] = [];
    for (const desc of messages().values()) {
      for (const f of desc.fields) {
        if (!f.scalar && !isKnownMessage(f.type)) missing.push(`${desc.name}.${f.json}: ${f.type}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test("JSON names are unique within a message, inline fields included", () => {
    const dupes: string[] = [];
    const names = (name: string): string[] => {
      const desc = messages().get(name);
      if (!desc) return [];
      return desc.fields.flatMap((f) => (f.presence === "inline" ? names(f.type) : [f.json]));
    };
    for (const name of messages().keys()) {
      const seen = new Set<string>();
      for (const n of names(name)) {
        if (seen.has(n)) dupes.push(`${name}.${n}`);
        seen.add(n);
      }
    }
    expect(dupes).toEqual([]);
  });

  test("every message renders its zero value from empty bytes", () => {
    for (const name of messages().keys()) {
      expect(() => JSON.stringify(decodeMessage(new Uint8Array(0), name))).not.toThrow();
    }
  });

  test("the parser rejects malformed specs", () => {
    expect(() => parseMessage("X", "1 name")).toThrow();
    expect(() => parseMessage("X", "1 a string, 1 b string")).toThrow();
    expect(() => parseMessage("X", "1 a string^")).toThrow();
    expect(parseMessage("X", "2 b core.v1.Y[]!, 1 a string?!").fields.map((f) => [f.number, f.presence])).toEqual([
      [2, "always"],
      [1, "pointerNull"],
    ]);
  });
});

describe("supported kinds", () => {
  test("cover the brief's kinds and each maps to a table", () => {
    for (const k of SUPPORTED_KINDS) expect(messages().has(k.message)).toBe(true);
    const names = supportedKindNames();
    for (const want of [
      "v1, Kind=Namespace",
      "v1, Kind=ConfigMap",
      "v1, Kind=Secret",
      "v1, Kind=Service",
      "v1, Kind=ServiceAccount",
      "v1, Kind=Pod",
      "v1, Kind=ResourceQuota",
      "v1, Kind=Binding",
      "apps/v1, Kind=Deployment",
      "apps/v1, Kind=ReplicaSet",
      "apps/v1, Kind=DaemonSet",
      "apps/v1, Kind=StatefulSet",
      "batch/v1, Kind=Job",
      "batch/v1, Kind=CronJob",
      "rbac.authorization.k8s.io/v1, Kind=Role",
      "rbac.authorization.k8s.io/v1, Kind=RoleBinding",
      "rbac.authorization.k8s.io/v1, Kind=ClusterRole",
      "rbac.authorization.k8s.io/v1, Kind=ClusterRoleBinding",
      "policy/v1, Kind=PodDisruptionBudget",
      "policy/v1, Kind=Eviction",
      "networking.k8s.io/v1, Kind=Ingress",
      "scheduling.k8s.io/v1, Kind=PriorityClass",
      "authentication.k8s.io/v1, Kind=TokenRequest",
      "meta.k8s.io/v1, Kind=DeleteOptions",
    ]) {
      expect(names).toContain(want);
    }
  });

  test("DeleteOptions resolves under any group-version, other kinds only under their own", () => {
    expect(supportedMessageFor("v1", "DeleteOptions")).toBe("meta.v1.DeleteOptions");
    expect(supportedMessageFor("batch/v1", "DeleteOptions")).toBe("meta.v1.DeleteOptions");
    expect(supportedMessageFor("apps/v1", "Pod")).toBeUndefined();
    expect(supportedMessageFor("v1", "toString")).toBeUndefined();
    expect(supportedMessageFor("constructor", "Pod")).toBeUndefined();
  });
});
