/**
 * @module Encryption at rest: a Store wrapper that seals the sensitive part of
 * chosen resources (default: Secrets) before it reaches the store, and opens
 * it on every way out (get, list, watch events, write results, the current
 * object handed to `guaranteedUpdate`). Callers above it (REST storage, the
 * handlers, the in-process object channel, the garbage collector) only ever
 * see plaintext; the database, its WAL and its history rows only ever hold
 * the sealed form.
 *
 * What stays readable in the stored object, and why: `apiVersion`, `kind`,
 * and `metadata` except annotations — the store indexes labels, keys rows by
 * namespace/name, owns uid/resourceVersion/generation/deletionTimestamp, and
 * the garbage collector and namespace lifecycle read finalizers and
 * ownerReferences — plus any top-level field a selectable field is read from
 * (a Secret's `type`, for `fieldSelector=type=…`). Everything else (`data`,
 * `stringData`, `immutable` …) and all annotations (kubectl's
 * `last-applied-configuration` holds the whole Secret) go into one sealed
 * value under `skiff.io/encrypted`. managedFields name fields, never values,
 * and stay.
 *
 * A write whose sealed part is unchanged keeps the stored ciphertext, so a
 * no-op update is still a no-op (the nonce is random; resealing would look
 * like a change). Objects stored before encryption was on are read as they
 * are and sealed at their next write (or by `rewrite`).
 */
import { deepEqual } from "../../api/json.ts";
import { errors, isApiError } from "../../api/errors.ts";
import type { KubeObject, ObjectMeta } from "../../api/meta.ts";
import { type ResourceType, selectableFieldValues } from "../../api/registry.ts";
import { validateAnnotations } from "../../api/validation.ts";
import { generateName } from "../../store/write-path.ts";
import type {
  CreateOptions,
  DeleteOptions,
  ListOptions,
  ListResult,
  Store,
  StoredObject,
  Watch,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from "../../store/types.ts";
import { keyNameOf, type KeySet } from "./keys.ts";
import { mapWatch } from "../../store/map-watch.ts";

/** The member of a stored object that holds the sealed part. */
export const SEALED_FIELD = "skiff.io/encrypted";

/** Storage keys encrypted when none are configured. */
export const DEFAULT_ENCRYPTED_RESOURCES = ["secrets"] as const;

export interface EncryptingStoreOptions {
  keys: KeySet;
  /** Storage keys (`type.key`: `secrets`, `configmaps`, `example.com/widgets` …) to encrypt. Default Secrets. */
  resources?: readonly string[];
}

/** What is sealed: the non-kept top-level fields and the annotations. */
interface SealedPart {
  f: Record<string, unknown>;
  a?: Record<string, unknown>;
}

const ALWAYS_KEPT = new Set(["apiVersion", "kind", "metadata"]);
/** The member of a sealed field's placeholder. */
const PLACEHOLDER = "skiff.io/sealed";

function newToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString("base64url");
}
const CACHE_MAX = 2048;

class Opened implements StoredObject {
  #raw: string | undefined;
  constructor(
    readonly revision: number,
    readonly object: KubeObject,
  ) {}
  get raw(): string {
    return (this.#raw ??= JSON.stringify(this.object));
  }
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export class EncryptingStore implements Store {
  readonly #keys: KeySet;
  readonly #resources: Set<string>;
  /** Per storage key: top-level fields kept in plaintext because a selectable field reads them. */
  readonly #kept = new Map<string, Set<string>>();
  /** Opened plaintext by (aad, sealed value): one decryption per stored version, not per watcher. */
  readonly #opened = new Map<string, string>();

  constructor(
    private readonly inner: Store,
    opts: EncryptingStoreOptions,
  ) {
    this.#keys = opts.keys;
    this.#resources = new Set(opts.resources ?? DEFAULT_ENCRYPTED_RESOURCES);
  }

  get keys(): KeySet {
    return this.#keys;
  }

  /** Whether objects of `type` are sealed. */
  encrypts(type: ResourceType): boolean {
    return this.#resources.has(type.key);
  }

  // ---- sealing ------------------------------------------------------------

  #aad(type: ResourceType, meta: ObjectMeta): string {
    // The store drops a namespace sent for a cluster-scoped kind: so does the authenticated data.
    return `${type.key}/${type.namespaced ? (meta.namespace ?? "") : ""}/${meta.name ?? ""}`;
  }

  #keptFields(type: ResourceType, plain: KubeObject): Set<string> {
    let kept = this.#kept.get(type.key);
    if (!kept) this.#kept.set(type.key, (kept = new Set()));
    if (Object.keys(type.selectableFields).every((f) => f.startsWith("metadata."))) return kept;
    const want = selectableFieldValues(type, plain);
    const probe = (o: KubeObject) => deepEqual(selectableFieldValues(type, o), want);
    if (!probe(this.#envelopeShape(plain, kept))) {
      // A selectable field reads a top-level field not kept yet: keep each field whose absence changes the values.
      for (const k of Object.keys(plain)) {
        if (ALWAYS_KEPT.has(k) || kept.has(k)) continue;
        const without: Record<string, unknown> = { ...plain };
        delete without[k];
        if (!probe(without as KubeObject)) kept.add(k);
      }
    }
    return kept;
  }

  #envelopeShape(plain: KubeObject, kept: Set<string>): KubeObject {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(plain)) if (ALWAYS_KEPT.has(k) || kept.has(k)) out[k] = (plain as Record<string, unknown>)[k];
    return out as KubeObject;
  }

  /**
   * The stored form of `plain`. `prev` is the stored form of the current
   * version: its ciphertext is kept when the sealed part did not change and
   * its key is the primary (unless `reseal`). Each sealed field (and the
   * annotations) leaves a placeholder `{"skiff.io/sealed": token}` whose
   * token changes exactly when that field does, so the store's generation
   * rule (did `spec` change?) still sees changes. Throws ApiError only.
   */
  seal(type: ResourceType, plain: KubeObject, prev?: KubeObject, reseal = false): KubeObject {
    if (!isPlain(plain) || !isPlain(plain.metadata)) return plain; // malformed: the store rejects it with its own error
    if ((plain as Record<string, unknown>)[SEALED_FIELD] !== undefined) throw errors.badRequest(`${SEALED_FIELD} is a reserved field`);
    const meta = plain.metadata;
    if (meta.annotations !== undefined) {
      const causes = validateAnnotations(meta.annotations, "metadata.annotations");
      if (causes.length > 0) throw errors.invalid({ kind: type.kind, group: type.group, name: String(meta.name ?? meta.generateName ?? ""), causes });
    }
    const aad = this.#aad(type, meta);
    const prevStored = prev as Record<string, unknown> | undefined;
    const prevSealed = prevStored?.[SEALED_FIELD];
    const prevPart = typeof prevSealed === "string" ? this.#tryOpenPart(prevSealed, aad) : undefined;
    const token = (was: unknown, prevValue: unknown, value: unknown): Record<string, string> => {
      const t = isPlain(was) ? was[PLACEHOLDER] : undefined;
      return { [PLACEHOLDER]: typeof t === "string" && prevValue !== undefined && deepEqual(prevValue, value) ? t : newToken() };
    };
    const kept = this.#keptFields(type, plain);
    const part: SealedPart = { f: {} };
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(plain)) {
      if (k === "metadata") {
        const { annotations, ...rest } = meta;
        if (isPlain(annotations) && Object.keys(annotations).length > 0) {
          part.a = annotations;
          rest.annotations = token((prev?.metadata as ObjectMeta | undefined)?.annotations, prevPart?.a, annotations) as Record<string, string>;
        }
        out.metadata = rest;
      } else if (ALWAYS_KEPT.has(k) || kept.has(k)) out[k] = v;
      else {
        part.f[k] = v;
        out[k] = token(prevStored?.[k], prevPart?.f[k], v);
      }
    }
    if (!reseal && typeof prevSealed === "string" && keyNameOf(prevSealed) === this.#keys.primary && prevPart && deepEqual(prevPart, part)) {
      out[SEALED_FIELD] = prevSealed;
      return out as KubeObject;
    }
    const text = JSON.stringify(part);
    const sealed = this.#keys.seal(text, aad);
    this.#remember(aad, sealed, text);
    out[SEALED_FIELD] = sealed;
    return out as KubeObject;
  }

  #tryOpenPart(sealed: string, aad: string): SealedPart | undefined {
    try {
      return JSON.parse(this.#openText(sealed, aad)) as SealedPart;
    } catch {
      return undefined;
    }
  }

  #remember(aad: string, sealed: string, text: string): void {
    if (this.#opened.size >= CACHE_MAX) this.#opened.delete(this.#opened.keys().next().value!);
    this.#opened.set(`${aad}\0${sealed}`, text);
  }

  #openText(sealed: string, aad: string): string {
    const key = `${aad}\0${sealed}`;
    let text = this.#opened.get(key);
    if (text === undefined) {
      text = this.#keys.open(sealed, aad);
      this.#remember(aad, sealed, text);
    }
    return text;
  }

  /** The plaintext of a stored object (a new object; nested values parsed afresh). Throws ApiError only. */
  open(type: ResourceType, stored: KubeObject): KubeObject {
    const sealed = stored?.[SEALED_FIELD as keyof KubeObject];
    if (typeof sealed !== "string") return stored; // stored before encryption was on
    const meta = stored.metadata;
    let part: SealedPart;
    try {
      part = JSON.parse(this.#openText(sealed, this.#aad(type, meta))) as SealedPart;
    } catch (e) {
      const who = `${type.plural} "${meta.namespace ? `${meta.namespace}/` : ""}${meta.name ?? ""}"`;
      throw errors.internal(`cannot decrypt ${who}: ${(e as Error).message}`);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(stored)) {
      if (Object.hasOwn(part.f, k)) out[k] = part.f[k];
      else if (k === SEALED_FIELD) {
        for (const [fk, fv] of Object.entries(part.f)) if (!Object.hasOwn(out, fk)) out[fk] = fv;
      } else if (k === "metadata") {
        const m = { ...meta };
        if (part.a) m.annotations = part.a as Record<string, string>;
        else delete m.annotations;
        out.metadata = m;
      } else out[k] = v;
    }
    return out as KubeObject;
  }

  #out(type: ResourceType, s: StoredObject): StoredObject {
    const sealed = (s.object as unknown as Record<string, unknown>)[SEALED_FIELD];
    return sealed === undefined ? s : new Opened(s.revision, this.open(type, s.object));
  }

  /** The key name a stored object is sealed with, or undefined when it is stored in plaintext. */
  static sealedWith(stored: KubeObject): string | undefined {
    const v = (stored as unknown as Record<string, unknown>)[SEALED_FIELD];
    return typeof v === "string" ? keyNameOf(v) : undefined;
  }

  // ---- Store ------------------------------------------------------------------

  async create(type: ResourceType, obj: KubeObject, opts?: CreateOptions): Promise<StoredObject> {
    if (!this.encrypts(type) || !isPlain(obj) || !isPlain(obj.metadata)) return this.inner.create(type, obj, opts);
    const meta = obj.metadata;
    if (meta.name || !meta.generateName) return this.#out(type, await this.inner.create(type, this.seal(type, obj), opts));
    // The name is part of the authenticated data, so it is generated here rather than in the store.
    for (let attempt = 0; ; attempt++) {
      const named = { ...obj, metadata: { ...meta, name: generateName(String(meta.generateName)) } } as KubeObject;
      try {
        return this.#out(type, await this.inner.create(type, this.seal(type, named), opts));
      } catch (e) {
        if (!isApiError(e, "AlreadyExists") || attempt >= 8) throw e;
      }
    }
  }

  async get(type: ResourceType, namespace: string, name: string): Promise<StoredObject> {
    const s = await this.inner.get(type, namespace, name);
    return this.encrypts(type) ? this.#out(type, s) : s;
  }

  async update(type: ResourceType, obj: KubeObject, opts?: WriteOptions): Promise<StoredObject> {
    if (!this.encrypts(type) || !isPlain(obj) || !isPlain(obj.metadata)) return this.inner.update(type, obj, opts);
    // Through guaranteedUpdate, to see the stored ciphertext (kept when nothing sealed changed).
    const rv = obj.metadata.resourceVersion;
    const name = obj.metadata.name ?? "";
    const s = await this.inner.guaranteedUpdate(
      type,
      obj.metadata.namespace ?? "",
      name,
      (cur) => {
        if (rv !== undefined && rv !== "" && rv !== cur.metadata.resourceVersion) {
          throw errors.conflict({ resource: type.plural, group: type.group, name });
        }
        return this.seal(type, obj, cur);
      },
      opts,
    );
    return this.#out(type, s);
  }

  async guaranteedUpdate(
    type: ResourceType,
    namespace: string,
    name: string,
    mutate: (current: KubeObject) => KubeObject,
    opts?: WriteOptions,
  ): Promise<StoredObject> {
    if (!this.encrypts(type)) return this.inner.guaranteedUpdate(type, namespace, name, mutate, opts);
    const s = await this.inner.guaranteedUpdate(type, namespace, name, (cur) => this.seal(type, mutate(this.open(type, cur)), cur), opts);
    return this.#out(type, s);
  }

  /**
   * Re-seals one object with the primary key (a new revision) when it is
   * stored in plaintext or under another key. Returns whether it wrote.
   */
  async reseal(type: ResourceType, namespace: string, name: string): Promise<boolean> {
    let wrote = false;
    await this.inner.guaranteedUpdate(type, namespace, name, (cur) => {
      if (EncryptingStore.sealedWith(cur) === this.#keys.primary) return cur;
      wrote = true;
      return this.seal(type, this.open(type, cur), cur, true);
    });
    return wrote;
  }

  async delete(type: ResourceType, namespace: string, name: string, opts?: DeleteOptions): Promise<StoredObject> {
    const s = await this.inner.delete(type, namespace, name, opts);
    return this.encrypts(type) ? this.#out(type, s) : s;
  }

  async list(type: ResourceType, opts?: ListOptions): Promise<ListResult> {
    const r = await this.inner.list(type, opts);
    if (!this.encrypts(type)) return r;
    return { ...r, items: r.items.map((i) => this.#out(type, i)) };
  }

  watch(type: ResourceType, opts?: WatchOptions): Watch {
    const w = this.inner.watch(type, opts);
    if (!this.encrypts(type)) return w;
    const open = (e: WatchEvent): WatchEvent => {
      if (e.type === "BOOKMARK" || (e.object as unknown as Record<string, unknown>)[SEALED_FIELD] === undefined) return e;
      const o = new Opened(e.revision, this.open(type, e.object));
      return {
        type: e.type,
        revision: e.revision,
        object: o.object,
        get raw() {
          return o.raw;
        },
      };
    };
    return mapWatch(w, open);
  }

  currentRevision(): Promise<number> {
    return this.inner.currentRevision();
  }
  compactedRevision(): Promise<number> {
    return this.inner.compactedRevision();
  }
  compact(revision?: number): Promise<void> {
    return this.inner.compact(revision);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
