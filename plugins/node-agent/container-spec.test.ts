import { describe, expect, test } from "bun:test";
import { ConfigError, containerEnv, containerHash, containerResources, expand, expandCommand, type EnvSources } from "./container-spec.ts";
import type { Pod } from "./types.ts";

describe("expand ($(VAR))", () => {
  const vars: Record<string, string> = { A: "alpha", B: "b" };
  const look = (n: string) => vars[n];
  const cases: [string, string][] = [
    ["$(A)", "alpha"],
    ["x$(A)y$(B)", "xalphayb"],
    ["$(MISSING)", "$(MISSING)"],
    ["$$(A)", "$(A)"],
    ["$$", "$"],
    ["$A", "$A"],
    ["$(A", "$(A"],
    ["end$", "end$"],
  ];
  for (const [inp, out] of cases) test(JSON.stringify(inp), () => expect(expand(inp, look)).toBe(out));
});

const pod: Pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web-1", namespace: "prod", uid: "u-1", labels: { app: "web" }, annotations: { note: "hi" } },
  spec: {
    nodeName: "n1",
    serviceAccountName: "sa",
    containers: [
      {
        name: "c",
        image: "img",
        resources: { limits: { cpu: "1500m", memory: "256Mi" }, requests: { cpu: "250m" } },
        envFrom: [{ configMapRef: { name: "cm" }, prefix: "CM_" }, { secretRef: { name: "sec" } }],
        env: [
          { name: "PLAIN", value: "v" },
          { name: "REF", value: "$(PLAIN)-$(CM_k1)-$$(x)" },
          { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
          { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
          { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "HOST", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
          { name: "CPU_LIMIT", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } },
          { name: "CPU_M", valueFrom: { resourceFieldRef: { resource: "requests.cpu", divisor: "1m" } } },
          { name: "MEM_MI", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
          { name: "EPH", valueFrom: { resourceFieldRef: { resource: "limits.ephemeral-storage" } } },
          { name: "FROM_CM", valueFrom: { configMapKeyRef: { name: "cm", key: "k2" } } },
          { name: "FROM_SECRET", valueFrom: { secretKeyRef: { name: "sec", key: "password" } } },
          { name: "OPT", valueFrom: { configMapKeyRef: { name: "nope", key: "x", optional: true } } },
        ],
      },
    ],
  },
};

const sources: EnvSources = {
  async configMap(_ns, name) {
    return name === "cm" ? { k1: "one", k2: "two", "bad key": "skipped" } : null;
  },
  async secret(_ns, name) {
    return name === "sec" ? { password: "s3cret" } : null;
  },
};

const info = { podIPs: ["10.88.0.7"], hostIPs: ["192.168.0.2"], allocatable: { cpu: "4", memory: "8Gi", "ephemeral-storage": "1000" } };

test("containerEnv: envFrom, then env with valueFrom and $(VAR) expansion", async () => {
  const env = Object.fromEntries((await containerEnv(pod, pod.spec.containers[0]!, info, sources)).map((e) => [e.name, e.value]));
  expect(env).toEqual({
    CM_k1: "one",
    CM_k2: "two",
    password: "s3cret",
    PLAIN: "v",
    REF: "v-one-$(x)",
    POD: "web-1",
    NS: "prod",
    APP: "web",
    NODE: "n1",
    IP: "10.88.0.7",
    HOST: "192.168.0.2",
    CPU_LIMIT: "2",
    CPU_M: "250",
    MEM_MI: "256",
    EPH: "1000",
    FROM_CM: "two",
    FROM_SECRET: "s3cret",
    OPT: "",
  });
});

test("containerEnv: a missing ConfigMap or key is a ConfigError", async () => {
  const c = { name: "c", env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cm", key: "missing" } } }] };
  const err = await containerEnv(pod, c, info, sources).catch((e) => e);
  expect(err).toBeInstanceOf(ConfigError);
  expect(err.message).toBe("couldn't find key missing in ConfigMap prod/cm");
  const err2 = await containerEnv(pod, { name: "c", envFrom: [{ secretRef: { name: "gone" } }] }, info, sources).catch((e) => e);
  expect(err2.message).toBe('secret "gone" not found');
});

test("expandCommand, resources and hash", () => {
  const c = { name: "c", image: "i", command: ["sh", "-c", "echo $(MSG)"], args: ["$(N)"], resources: { limits: { cpu: "250m", memory: "1Gi" }, requests: { cpu: "0.1" } } };
  expect(expandCommand(c, [{ name: "MSG", value: "hi" }])).toEqual({ command: ["sh", "-c", "echo hi"], args: ["$(N)"] });
  expect(containerResources(c)).toEqual({ cpuMillis: 250, memoryBytes: 1024 ** 3, cpuRequestMillis: 100 });
  expect(containerHash(c)).toBe(containerHash({ ...c }));
  expect(containerHash(c)).not.toBe(containerHash({ ...c, image: "j" }));
});
