import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import { TypeRegistry } from "../../api/registry.ts";
import { parseFieldSelector } from "../../api/selectors.ts";
import { SqliteStore } from "../../store/sqlite-store.ts";
import { builtinTypes } from "../../types/index.ts";
import { storeConformance } from "../../../test/conformance/store-suite.ts";
import { storeFactory } from "../../../test/fixtures/stores.ts";
import { EncryptingStore, SEALED_FIELD } from "./encrypting-store.ts";
import { ENVELOPE_PREFIX, KeySet, keyFilePath } from "./keys.ts";
import { keysInUse, lockDataDir, rewriteAll, serverHolding } from "./maintenance.ts";

// The whole Store contract holds with every resource of the suite sealed.
const f = storeFactory("bun-sqlite");
afterAll(() => f.cleanup());
storeConformance("encrypting (bun-sqlite)", async (opts) => {
  const inner = await f.open(opts ?? {});
  return new EncryptingStore(inner, { keys: KeySet.generate(), resources: ["pods", "configmaps", "nodes", "annotateds", "coordination.k8s.io/leases"] });
});

const registry = new TypeRegistry();
for (const t of builtinTypes()) registry.register(t);
const Secrets = registry.get("", "v1", "secrets")!;
const ConfigMaps = registry.get("", "v1", "configmaps")!;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function fresh(keys = KeySet.generate()) {
  const dir = mkdtempSync(join(tmpdir(), "skiff-enc-"));
  dirs.push(dir);
  const path = join(dir, "skiff.db");
  const raw = await SqliteStore.open({ path, durability: "normal" });
  return { dir, path, raw, keys, store: new EncryptingStore(raw, { keys }) };
}

const PLAIN = `hunter2-${crypto.randomUUID()}`;
const b64 = (s: string) => Buffer.from(s).toString("base64");

function secret(name: string, value = PLAIN): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      namespace: "default",
      labels: { app: "web" },
      annotations: { "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({ stringData: { password: value } }) },
      ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: "u-1" }],
    },
    type: "Opaque",
    data: { password: b64(value) },
  } as KubeObject;
}

/** Every byte under `dir` (database, WAL, shared memory). */
function bytesUnder(dir: string): string {
  return readdirSync(dir)
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile())
    .map((p) => readFileSync(p).toString("latin1"))
    .join("\n");
}

describe("EncryptingStore", () => {
  test("the database never holds a Secret's values or annotations; callers get them back", async () => {
    const { dir, raw, store } = await fresh();
    await store.create(Secrets, secret("s1"));
    await store.guaranteedUpdate(Secrets, "default", "s1", (o) => ({ ...o, data: { password: b64(`${PLAIN}-v2`) } }));
    const all = bytesUnder(dir);
    for (const needle of [PLAIN, b64(PLAIN), "last-applied-configuration"]) expect(all.includes(needle)).toBe(false);

    const stored = (await raw.get(Secrets, "default", "s1")).object as unknown as Record<string, unknown>;
    expect(String(stored[SEALED_FIELD])).toStartWith(`${ENVELOPE_PREFIX}key1:`);
    // Sealed fields leave only a change token behind.
    expect(Object.keys(stored.data as object)).toEqual(["skiff.io/sealed"]);
    // What the store and the garbage collector read stays in the clear.
    expect(stored.type).toBe("Opaque");
    expect((stored.metadata as KubeObject["metadata"]).labels).toEqual({ app: "web" });
    expect((stored.metadata as KubeObject["metadata"]).ownerReferences?.[0]?.uid).toBe("u-1");
    expect(Object.keys((stored.metadata as KubeObject["metadata"]).annotations ?? {})).toEqual(["skiff.io/sealed"]);

    const got = await store.get(Secrets, "default", "s1");
    expect((got.object as unknown as { data: Record<string, string> }).data.password).toBe(b64(`${PLAIN}-v2`));
    expect(got.object.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"]).toContain(PLAIN);
    expect(JSON.parse(got.raw)).toEqual(got.object);
    expect(got.raw).not.toContain(SEALED_FIELD);
    await raw.close();
  });

  test("lists, field selectors on `type`, label selectors and watches see plaintext", async () => {
    const { raw, store } = await fresh();
    const w = store.watch(Secrets, { namespace: "default" });
    await store.create(Secrets, secret("a"));
    await store.create(Secrets, { ...secret("b"), type: "kubernetes.io/basic-auth", data: { username: b64("u"), password: b64("p") } } as KubeObject);
    const typed = await store.list(Secrets, { fieldSelector: parseFieldSelector("type=kubernetes.io/basic-auth", Object.keys(Secrets.selectableFields)) });
    expect(typed.items.map((i) => i.object.metadata.name)).toEqual(["b"]);
    const all = await store.list(Secrets, {});
    expect(all.items.map((i) => (i.object as unknown as { data: Record<string, string> }).data.password)).toEqual([b64(PLAIN), b64("p")]);
    const events = [...((await w.nextBatch()) ?? [])];
    while (events.length < 2) events.push(...((await w.nextBatch()) ?? []));
    expect(events.map((e) => e.type)).toEqual(["ADDED", "ADDED"]);
    expect(events[0]!.raw).toContain(b64(PLAIN));
    expect(events[0]!.object.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"]).toContain(PLAIN);
    w.close();
    const deleted = await store.delete(Secrets, "default", "a");
    expect((deleted.object as unknown as { data: Record<string, string> }).data.password).toBe(b64(PLAIN));
    await raw.close();
  });

  test("an update that changes nothing sealed keeps the ciphertext; a no-op writes no revision", async () => {
    const { raw, store } = await fresh();
    const c = await store.create(Secrets, secret("s"));
    const sealedOf = async () => ((await raw.get(Secrets, "default", "s")).object as unknown as Record<string, string>)[SEALED_FIELD];
    const before = await sealedOf();
    const same = await store.update(Secrets, structuredClone(c.object) as KubeObject);
    expect(same.revision).toBe(c.revision);
    const relabeled = await store.guaranteedUpdate(Secrets, "default", "s", (o) => ({ ...o, metadata: { ...o.metadata, labels: { app: "db" } } }));
    expect(relabeled.revision).toBeGreaterThan(c.revision);
    expect(await sealedOf()).toBe(before);
    await store.guaranteedUpdate(Secrets, "default", "s", (o) => ({ ...o, data: { password: b64("changed") } }));
    expect(await sealedOf()).not.toBe(before);
    // update() keeps optimistic concurrency.
    const stale = { ...structuredClone(c.object), data: { password: b64("x") } } as KubeObject;
    const err = await store.update(Secrets, stale).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).reason).toBe("Conflict");
    await raw.close();
  });

  test("generateName works (the name is bound into the ciphertext) and bad annotations are still refused", async () => {
    const { raw, store } = await fresh();
    const g = secret("");
    delete g.metadata.name;
    g.metadata.generateName = "gen-";
    const made = await store.create(Secrets, g);
    expect(made.object.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
    expect((await store.get(Secrets, "default", made.object.metadata.name!)).object.metadata.annotations).toBeDefined();
    const bad = secret("bad");
    bad.metadata.annotations = { "not a valid key!": "x" };
    const err = await store.create(Secrets, bad).catch((e) => e);
    expect((err as ApiError).reason).toBe("Invalid");
    await raw.close();
  });

  test("a ciphertext moved to another object, or a wrong key, fails with a 500 Status, not plaintext", async () => {
    const { raw, store } = await fresh();
    await store.create(Secrets, secret("src"));
    const stolen = ((await raw.get(Secrets, "default", "src")).object as unknown as Record<string, string>)[SEALED_FIELD];
    await raw.create(Secrets, { apiVersion: "v1", kind: "Secret", metadata: { name: "dst", namespace: "default" }, [SEALED_FIELD]: stolen } as unknown as KubeObject);
    const e1 = await store.get(Secrets, "default", "dst").catch((e) => e);
    expect((e1 as ApiError).code).toBe(500);
    expect((e1 as ApiError).message).toContain("cannot decrypt");
    const other = new EncryptingStore(raw, { keys: KeySet.generate() });
    const e2 = await other.get(Secrets, "default", "src").catch((e) => e);
    expect((e2 as ApiError).code).toBe(500);
    await raw.close();
  });

  test("cluster-scoped kinds can be sealed too (their stored spec keeps only a change token)", async () => {
    const { raw } = await fresh();
    const Nodes = registry.get("", "v1", "nodes")!;
    const store = new EncryptingStore(raw, { keys: KeySet.generate(), resources: ["nodes"] });
    await store.create(Nodes, { apiVersion: "v1", kind: "Node", metadata: { name: "n1" }, spec: { podCIDR: "10.0.0.0/24" } } as KubeObject);
    expect(JSON.stringify((await raw.get(Nodes, "", "n1")).object)).not.toContain("10.0.0.0/24");
    expect(((await store.get(Nodes, "", "n1")).object as unknown as { spec: { podCIDR: string } }).spec.podCIDR).toBe("10.0.0.0/24");
    await raw.close();
  });

  test("objects stored before encryption are readable and get sealed by rewriteAll", async () => {
    const { dir, raw } = await fresh();
    await raw.create(Secrets, secret("old"));
    await raw.create(ConfigMaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "default" }, data: { k: "v" } } as KubeObject);
    const store = new EncryptingStore(raw, { keys: KeySet.generate() });
    expect(((await store.get(Secrets, "default", "old")).object as unknown as { data: { password: string } }).data.password).toBe(b64(PLAIN));
    expect(await rewriteAll(store, raw, registry.all())).toEqual({ rewritten: 1, total: 1 });
    expect([...(await keysInUse(raw, [Secrets])).keys()]).toEqual(["key1"]);
    await raw.close();
    // History rows holding the plaintext are compacted away (free pages aside, which SQLite reuses).
    const reopened = await SqliteStore.open({ path: join(dir, "skiff.db"), durability: "normal" });
    expect(await reopened.compactedRevision()).toBe(await reopened.currentRevision());
    await reopened.close();
  });

  test("rotation: new writes use the new primary, old keys still read, rewrite moves everything, prune is then safe", async () => {
    const { raw, store, keys } = await fresh();
    await store.create(Secrets, secret("r1"));
    await store.create(Secrets, secret("r2"));
    await store.guaranteedUpdate(Secrets, "default", "r2", (o) => ({ ...o, data: { password: b64("v2") } }));
    expect(keys.rotate()).toBe("key2");
    await store.create(Secrets, secret("r3"));
    const inUse = await keysInUse(raw, [Secrets]);
    expect(inUse.get("key1")).toBeGreaterThanOrEqual(2);
    expect(inUse.get("key2")).toBeGreaterThanOrEqual(1);
    expect(((await store.get(Secrets, "default", "r1")).object as unknown as { data: { password: string } }).data.password).toBe(b64(PLAIN));
    const r = await rewriteAll(store, raw, [Secrets]);
    expect(r).toEqual({ rewritten: 2, total: 3 });
    expect([...(await keysInUse(raw, [Secrets])).keys()]).toEqual(["key2"]);
    expect(keys.pruneToPrimary()).toEqual(["key1"]);
    for (const n of ["r1", "r2", "r3"]) expect((await store.get(Secrets, "default", n)).object.metadata.name).toBe(n);
    await raw.close();
  });
});

describe("KeySet", () => {
  test("the key file is created once, mode 0600 in a 0700 dir, and round-trips", () => {
    const dir = mkdtempSync(join(tmpdir(), "skiff-keys-"));
    dirs.push(dir);
    const a = KeySet.loadOrCreate(dir);
    expect(statSync(keyFilePath(dir)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "encryption")).mode & 0o777).toBe(0o700);
    const b = KeySet.loadOrCreate(dir);
    expect(b.open(a.seal("x", "aad"), "aad")).toBe("x");
    b.rotate();
    b.save(dir);
    const c = KeySet.load(dir);
    expect(c.names).toEqual(["key1", "key2"]);
    expect(c.primary).toBe("key2");
    expect(c.open(a.seal("y", "aad"), "aad")).toBe("y");
    expect(() => c.open(a.seal("y", "aad"), "other")).toThrow(/does not authenticate/);
  });

  test("malformed key files are refused with a reason", () => {
    expect(() => KeySet.parse("nope")).toThrow(/not JSON/);
    expect(() => KeySet.parse(JSON.stringify({ kind: "SkiffEncryptionKeys", version: 1, primary: "k", keys: [{ name: "k", secret: "c2hvcnQ=" }] }))).toThrow(/32 bytes/);
    expect(() => KeySet.parse(JSON.stringify({ kind: "SkiffEncryptionKeys", version: 1, primary: "x", keys: [] }))).toThrow(/primary/);
  });

  test("the data dir lock names a live holder and ignores stale ones", () => {
    const dir = mkdtempSync(join(tmpdir(), "skiff-lock-"));
    dirs.push(dir);
    const release = lockDataDir(dir);
    expect(existsSync(join(dir, "encryption", "server.pid"))).toBe(true);
    // Our own pid never counts as another server.
    expect(serverHolding(dir)).toBeUndefined();
    release();
    expect(existsSync(join(dir, "encryption", "server.pid"))).toBe(false);
  });
});
