import { describe, expect, test } from "bun:test";
import type { RegistryAuth, RuntimeAdapter } from "../../core/runtime/adapter.ts";
import { DockerKeyring, ensureImage, imageRegistry, pullPolicy, pullSecretsKeyring } from "./images.ts";

/** A runtime with an image store in a Map; pulls need `user:pw` for images under `private.example:5000`. */
function runtime(opts: { images?: boolean; present?: string[] } = {}) {
  const store = new Map<string, string>((opts.present ?? []).map((i) => [i, `sha256:${i}`]));
  const pulls: { image: string; auth?: RegistryAuth }[] = [];
  const rt = {
    capabilities: { images: opts.images ?? true },
    async pullImage(image: string, auth?: RegistryAuth) {
      pulls.push({ image, ...(auth ? { auth } : {}) });
      if (image.startsWith("private.example:5000/") && !(auth?.username === "user" && auth.password === "pw")) throw new Error("401 Unauthorized");
      if (image.includes("missing")) throw new Error("not found");
      store.set(image, `sha256:${image}`);
      return `sha256:${image}`;
    },
    async imageStatus(image: string) {
      const ref = store.get(image);
      return ref ? { ref, size: 42 } : null;
    },
  } as unknown as RuntimeAdapter;
  return { rt, pulls, store };
}

function events() {
  const list: string[] = [];
  return { list, event: (type: string, reason: string, message: string) => void list.push(`${type} ${reason}: ${message}`) };
}

describe("pull policy", () => {
  test.each([
    ["busybox", undefined, "Always"],
    ["busybox:latest", undefined, "Always"],
    ["busybox:1.36", undefined, "IfNotPresent"],
    ["busybox:1.36", "Never", "Never"],
    ["busybox", "IfNotPresent", "IfNotPresent"],
    ["busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", undefined, "IfNotPresent"],
  ])("%s with %s is %s", (image, policy, want) => {
    expect(pullPolicy(image, policy)).toBe(want as never);
  });
});

describe("ensureImage", () => {
  test("IfNotPresent: present → no pull, 'already present'", async () => {
    const { rt, pulls } = runtime({ present: ["a:1"] });
    const ev = events();
    expect(await ensureImage({ runtime: rt, image: "a:1", policy: "IfNotPresent", event: ev.event })).toEqual({ ok: true, ref: "sha256:a:1" });
    expect(pulls).toEqual([]);
    expect(ev.list).toEqual(['Normal Pulled: Container image "a:1" already present on machine']);
  });

  test("IfNotPresent: absent → Pulling, pull, Pulled with duration and size", async () => {
    const { rt, pulls } = runtime();
    const ev = events();
    let t = 1000;
    const r = await ensureImage({ runtime: rt, image: "a:1", policy: "IfNotPresent", event: ev.event, now: () => (t += 250) });
    expect(r).toEqual({ ok: true, ref: "sha256:a:1" });
    expect(pulls).toEqual([{ image: "a:1" }]);
    expect(ev.list).toEqual(['Normal Pulling: Pulling image "a:1"', 'Normal Pulled: Successfully pulled image "a:1" in 0.25s (0.25s including waiting). Image size: 42 bytes.']);
  });

  test("Always pulls even when present", async () => {
    const { rt, pulls } = runtime({ present: ["a:1"] });
    const ev = events();
    await ensureImage({ runtime: rt, image: "a:1", policy: "Always", event: ev.event });
    expect(pulls.length).toBe(1);
    expect(ev.list[0]).toBe('Normal Pulling: Pulling image "a:1"');
  });

  test("Never: absent → ErrImageNeverPull, no pull", async () => {
    const { rt, pulls } = runtime();
    const ev = events();
    const r = await ensureImage({ runtime: rt, image: "a:1", policy: "Never", event: ev.event });
    expect(r).toEqual({ ok: false, reason: "ErrImageNeverPull", message: 'Container image "a:1" is not present with pull policy of Never' });
    expect(pulls).toEqual([]);
    expect(ev.list).toEqual(['Warning ErrImageNeverPull: Container image "a:1" is not present with pull policy of Never']);
  });

  test("Never: present → runs", async () => {
    const { rt } = runtime({ present: ["a:1"] });
    expect(await ensureImage({ runtime: rt, image: "a:1", policy: "Never", event: () => undefined })).toMatchObject({ ok: true });
  });

  test("a failed pull is ErrImagePull with the runtime's error", async () => {
    const { rt } = runtime();
    const ev = events();
    const r = await ensureImage({ runtime: rt, image: "missing:1", policy: "IfNotPresent", event: ev.event });
    expect(r).toEqual({ ok: false, reason: "ErrImagePull", message: 'Failed to pull image "missing:1": not found' });
    expect(ev.list.at(-1)).toBe('Warning Failed: Failed to pull image "missing:1": not found');
  });

  test("credentials are tried in order until one works", async () => {
    const { rt, pulls } = runtime();
    const creds: RegistryAuth[] = [
      { serverAddress: "private.example:5000", username: "user", password: "wrong" },
      { serverAddress: "private.example:5000", username: "user", password: "pw" },
    ];
    const r = await ensureImage({ runtime: rt, image: "private.example:5000/app:1", event: () => undefined, credentials: async () => creds });
    expect(r).toMatchObject({ ok: true });
    expect(pulls.map((p) => p.auth?.password)).toEqual(["wrong", "pw"]);
  });

  test("runtimes without images only resolve a reference", async () => {
    const { rt, pulls } = runtime({ images: false });
    const ev = events();
    expect(await ensureImage({ runtime: rt, image: "a", policy: "Always", event: ev.event })).toMatchObject({ ok: true });
    expect(pulls).toEqual([{ image: "a" }]);
    expect(ev.list).toEqual(['Normal Pulled: Container image "a" already present on machine']);
  });
});

describe("keyring", () => {
  test("image registries: docker.io default, ports, localhost", () => {
    expect(imageRegistry("busybox")).toEqual({ host: "docker.io", port: "", path: "/library/busybox" });
    expect(imageRegistry("user/app:1")).toEqual({ host: "docker.io", port: "", path: "/user/app:1" });
    expect(imageRegistry("127.0.0.1:5000/a/b:2")).toEqual({ host: "127.0.0.1", port: "5000", path: "/a/b:2" });
    expect(imageRegistry("localhost/x")).toEqual({ host: "localhost", port: "", path: "/x" });
  });

  test("matches host, port, globs and path prefixes; most specific first", () => {
    const k = new DockerKeyring();
    k.add({
      "https://index.docker.io/v1/": { username: "hub", password: "h" },
      "registry.example:5000": { username: "plain", password: "p" },
      "registry.example:5000/team": { username: "team", password: "t" },
      "*.corp.example": { auth: Buffer.from("glob:g").toString("base64") },
    });
    expect(k.lookup("busybox").map((a) => a.username)).toEqual(["hub"]);
    expect(k.lookup("registry.example:5000/team/app:1").map((a) => a.username)).toEqual(["team", "plain"]);
    expect(k.lookup("registry.example:5000/other/app:1").map((a) => a.username)).toEqual(["plain"]);
    expect(k.lookup("registry.example/other/app:1")).toEqual([]);
    expect(k.lookup("registry.example:5000/teamx/app")).toHaveLength(1);
    const g = k.lookup("a.corp.example/x:1");
    expect(g).toEqual([{ serverAddress: "*.corp.example", username: "glob", password: "g", auth: Buffer.from("glob:g").toString("base64") }]);
    expect(k.lookup("a.b.corp.example/x:1")).toEqual([]);
  });

  test("reads dockerconfigjson and dockercfg Secrets of the pod's namespace; reports the unusable ones", async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64");
    const secrets: Record<string, unknown> = {
      "ns/json": { type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": b64({ auths: { "reg.example:5000": { username: "j", password: "1" } } }) } },
      "ns/cfg": { type: "kubernetes.io/dockercfg", data: { ".dockercfg": b64({ "old.example": { username: "c", password: "2" } }) } },
      "ns/opaque": { type: "Opaque", data: { x: "eA==" } },
      "other/json": { type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": b64({ auths: { "old.example": { username: "x" } } }) } },
    };
    const client = {
      get: async (ref: { resource: string }, name: string, o?: { namespace?: string }) => {
        expect(ref.resource).toBe("secrets");
        const s = secrets[`${o?.namespace}/${name}`];
        if (!s) throw new Error("NotFound");
        return s;
      },
    };
    const pod = { metadata: { namespace: "ns" }, spec: { imagePullSecrets: [{ name: "json" }, { name: "cfg" }, { name: "opaque" }, { name: "gone" }] } };
    const { keyring, missing } = await pullSecretsKeyring(client as never, pod);
    expect(missing).toEqual(["opaque", "gone"]);
    expect(keyring.lookup("reg.example:5000/a:1")).toEqual([{ serverAddress: "reg.example:5000", username: "j", password: "1" }]);
    expect(keyring.lookup("old.example/a:1").map((a) => a.username)).toEqual(["c"]);
  });
});
