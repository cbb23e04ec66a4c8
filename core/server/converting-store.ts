/**
 * @module Multi-version kinds. Some group-resources are served at several
 * versions but stored once (autoscaling/v1 and v2 HorizontalPodAutoscaler;
 * core/v1 and events.k8s.io/v1 Event). This Store wrapper gives every caller
 * objects in the version it asked for: writes are converted to the storage
 * version, reads and watch events back. Kinds with one version pass straight
 * through, keeping the stored bytes.
 */
import type { KubeObject } from "../api/meta.ts";
import type { ResourceType, TypeRegistry } from "../api/registry.ts";
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
} from "../store/types.ts";
import { mapWatch } from "../store/map-watch.ts";

/** How one storage key converts (core/types' `conversions` table). */
export interface Conversion {
  storageVersion: string;
  toStorage(obj: KubeObject): KubeObject;
  fromStorage(obj: KubeObject, apiVersion: string): KubeObject;
}

function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

class Converted implements StoredObject {
  #raw: string | undefined;
  constructor(
    readonly revision: number,
    readonly object: KubeObject,
  ) {}
  get raw(): string {
    return (this.#raw ??= JSON.stringify(this.object));
  }
}

export class ConvertingStore implements Store {
  constructor(
    private readonly inner: Store,
    private readonly registry: TypeRegistry,
    private readonly table: Record<string, Conversion>,
  ) {}

  /** The conversion and storage type for `type`, or undefined when `type` is itself stored as is. */
  #plan(type: ResourceType): { conv: Conversion; storage: ResourceType; apiVersion: string } | undefined {
    const conv = this.table[type.key];
    const apiVersion = apiVersionOf(type);
    if (!conv || conv.storageVersion === apiVersion) return undefined;
    const storage = this.registry.all().find((t) => t.key === type.key && apiVersionOf(t) === conv.storageVersion);
    return storage ? { conv, storage, apiVersion } : undefined;
  }

  #out(p: { conv: Conversion; apiVersion: string }, s: StoredObject): StoredObject {
    return new Converted(s.revision, p.conv.fromStorage(s.object, p.apiVersion));
  }

  async create(type: ResourceType, obj: KubeObject, opts?: CreateOptions): Promise<StoredObject> {
    const p = this.#plan(type);
    if (!p) return this.inner.create(type, obj, opts);
    return this.#out(p, await this.inner.create(p.storage, p.conv.toStorage(obj), opts));
  }

  async get(type: ResourceType, namespace: string, name: string): Promise<StoredObject> {
    const p = this.#plan(type);
    if (!p) return this.inner.get(type, namespace, name);
    return this.#out(p, await this.inner.get(p.storage, namespace, name));
  }

  async update(type: ResourceType, obj: KubeObject, opts?: WriteOptions): Promise<StoredObject> {
    const p = this.#plan(type);
    if (!p) return this.inner.update(type, obj, opts);
    return this.#out(p, await this.inner.update(p.storage, p.conv.toStorage(obj), opts));
  }

  async guaranteedUpdate(
    type: ResourceType,
    namespace: string,
    name: string,
    mutate: (current: KubeObject) => KubeObject,
    opts?: WriteOptions,
  ): Promise<StoredObject> {
    const p = this.#plan(type);
    if (!p) return this.inner.guaranteedUpdate(type, namespace, name, mutate, opts);
    const s = await this.inner.guaranteedUpdate(
      p.storage,
      namespace,
      name,
      (cur) => p.conv.toStorage(mutate(p.conv.fromStorage(cur, p.apiVersion))),
      opts,
    );
    return this.#out(p, s);
  }

  async delete(type: ResourceType, namespace: string, name: string, opts?: DeleteOptions): Promise<StoredObject> {
    const p = this.#plan(type);
    if (!p) return this.inner.delete(type, namespace, name, opts);
    return this.#out(p, await this.inner.delete(p.storage, namespace, name, opts));
  }

  async list(type: ResourceType, opts?: ListOptions): Promise<ListResult> {
    const p = this.#plan(type);
    if (!p) return this.inner.list(type, opts);
    const r = await this.inner.list(p.storage, opts);
    return { ...r, items: r.items.map((i) => this.#out(p, i)) };
  }

  watch(type: ResourceType, opts?: WatchOptions): Watch {
    const p = this.#plan(type);
    if (!p) return this.inner.watch(type, opts);
    const w = this.inner.watch(p.storage, opts);
    const convert = (e: WatchEvent): WatchEvent => {
      if (e.type === "BOOKMARK") {
        const object = { kind: type.kind, apiVersion: p.apiVersion, metadata: e.object.metadata };
        return { type: e.type, revision: e.revision, object, raw: JSON.stringify(object) };
      }
      const c = this.#out(p, { revision: e.revision, raw: e.raw, object: e.object });
      return { type: e.type, revision: e.revision, object: c.object, raw: c.raw };
    };
    return mapWatch(w, convert);
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
