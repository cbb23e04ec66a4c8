import { afterAll, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "./container-spec.ts";
import type { Pod } from "./types.ts";
import { containerMounts, setUpVolumes, type VolumeSources, writeAtomic } from "./volumes.ts";

const dir = mkdtempSync(join(tmpdir(), "skiff-vol-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("writeAtomic: files are links through ..data; an update swaps the content and drops stale names", () => {
  const d = join(dir, "atomic");
  writeAtomic(d, new Map([["a", { data: Buffer.from("1"), mode: 0o644 }], ["sub/b", { data: Buffer.from("2"), mode: 0o600 }]]));
  expect(readFileSync(join(d, "a"), "utf8")).toBe("1");
  expect(readFileSync(join(d, "sub", "b"), "utf8")).toBe("2");
  expect(lstatSync(join(d, "a")).isSymbolicLink()).toBe(true);
  expect(statSync(join(d, "sub", "b")).mode & 0o777).toBe(0o600);
  writeAtomic(d, new Map([["a", { data: Buffer.from("new"), mode: 0o644 }]]));
  expect(readFileSync(join(d, "a"), "utf8")).toBe("new");
  expect(existsSync(join(d, "sub"))).toBe(false);
  expect(readdirSync(d).filter((n) => n.startsWith("..")).length).toBe(2); // ..data and one timestamped dir
});

const sources: VolumeSources = {
  async configMap(_ns, name) {
    return name === "cm" ? { data: { "app.conf": "x=1", other: "y" }, binaryData: { bin: Buffer.from([1, 2]).toString("base64") } } : null;
  },
  async secret(_ns, name) {
    return name === "sec" ? { data: { token: Buffer.from("t0k").toString("base64") } } : null;
  },
};

const pod: Pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "ns", uid: "u", labels: { a: "b" } },
  spec: {
    containers: [
      {
        name: "c",
        volumeMounts: [
          { name: "cfg", mountPath: "/etc/app", readOnly: true },
          { name: "scratch", mountPath: "/scratch" },
          { name: "cfg", mountPath: "/etc/app.conf", subPath: "app.conf" },
        ],
      },
    ],
    volumes: [
      { name: "cfg", configMap: { name: "cm", items: [{ key: "app.conf", path: "app.conf" }] } },
      { name: "all", configMap: { name: "cm" } },
      { name: "sec", secret: { secretName: "sec", defaultMode: 0o400 } },
      { name: "scratch", emptyDir: {} },
      { name: "host", hostPath: { path: join(dir, "host-made"), type: "DirectoryOrCreate" } },
      { name: "down", downwardAPI: { items: [{ path: "name", fieldRef: { fieldPath: "metadata.name" } }, { path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
      { name: "proj", projected: { sources: [{ secret: { name: "sec" } }, { downwardAPI: { items: [{ path: "ns", fieldRef: { fieldPath: "metadata.namespace" } }] } }] } },
    ],
  },
};

test("setUpVolumes: every supported kind, and the container's mounts", async () => {
  const info = { podIPs: [], hostIPs: [], allocatable: {} };
  const v = await setUpVolumes(pod, join(dir, "pod"), info, sources);
  expect(readFileSync(join(v.get("cfg")!, "app.conf"), "utf8")).toBe("x=1");
  expect(existsSync(join(v.get("cfg")!, "other"))).toBe(false);
  expect(readFileSync(join(v.get("all")!, "bin"))).toEqual(Buffer.from([1, 2]));
  expect(readFileSync(join(v.get("sec")!, "token"), "utf8")).toBe("t0k");
  expect(statSync(join(v.get("sec")!, "token")).mode & 0o777).toBe(0o400);
  expect(statSync(v.get("scratch")!).isDirectory()).toBe(true);
  expect(statSync(join(dir, "host-made")).isDirectory()).toBe(true);
  expect(readFileSync(join(v.get("down")!, "name"), "utf8")).toBe("p");
  expect(readFileSync(join(v.get("down")!, "labels"), "utf8")).toBe('a="b"');
  expect(readFileSync(join(v.get("proj")!, "ns"), "utf8")).toBe("ns");
  expect(readFileSync(join(v.get("proj")!, "token"), "utf8")).toBe("t0k");
  expect(containerMounts(pod.spec.containers[0]!, v)).toEqual([
    { containerPath: "/etc/app", hostPath: v.get("cfg")!, readOnly: true },
    { containerPath: "/scratch", hostPath: v.get("scratch")!, readOnly: false },
    { containerPath: "/etc/app.conf", hostPath: join(v.get("cfg")!, "app.conf"), readOnly: false },
  ]);
});

test("missing sources and unsupported kinds are ConfigErrors", async () => {
  const info = { podIPs: [], hostIPs: [], allocatable: {} };
  const missing = { ...pod, spec: { ...pod.spec, volumes: [{ name: "x", configMap: { name: "nope" } }] } };
  expect(await setUpVolumes(missing, join(dir, "p2"), info, sources).catch((e) => e)).toBeInstanceOf(ConfigError);
  const optional = { ...pod, spec: { ...pod.spec, volumes: [{ name: "x", configMap: { name: "nope", optional: true } }] } };
  expect((await setUpVolumes(optional, join(dir, "p3"), info, sources)).has("x")).toBe(true);
  const pvc = { ...pod, spec: { ...pod.spec, volumes: [{ name: "x", persistentVolumeClaim: { claimName: "c" } }] } };
  const e = await setUpVolumes(pvc, join(dir, "p4"), info, sources).catch((e) => e);
  expect(e.message).toContain("persistentVolumeClaim volumes are not supported");
  const hp = { ...pod, spec: { ...pod.spec, volumes: [{ name: "x", hostPath: { path: join(dir, "absent"), type: "Directory" } }] } };
  expect(await setUpVolumes(hp, join(dir, "p5"), info, sources).catch((e) => e)).toBeInstanceOf(ConfigError);
});
