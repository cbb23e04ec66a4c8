/**
 * @module The generic REST storage between HTTP handlers and the store
 * (kube-apiserver's `genericregistry.Store`): per-kind strategy (defaults,
 * validation), field validation (Strict/Warn/Ignore), managedFields, the
 * status and scale subresources, graceful deletion with propagation
 * policies, namespace lifecycle checks and dry runs. Works for every
 * registered type; nothing here knows what a Pod is beyond `TypeStrategy`.
 */
import { ApiError, errors, type StatusCause } from "../api/errors.ts";
import type { KubeObject, ManagedFieldsEntry } from "../api/meta.ts";
import type { ResourceType } from "../api/registry.ts";
import type { Schema } from "../api/schema.ts";
import { nowRfc3339 } from "../api/time.ts";
import { deepEqual } from "../api/json.ts";
import type { Store, StoredObject } from "../store/types.ts";
import type { Admission, AdmissionRequest } from "../plugin/types.ts";
import type { AdmissionChain } from "./admission.ts";

export type FieldValidation = "Strict" | "Warn" | "Ignore";

/** What a write request carries besides its body. */
export interface WriteContext {
  fieldManager: string;
  fieldValidation: FieldValidation;
  dryRun: boolean;
  /** Warnings for the `Warning` response header. */
  warnings: string[];
  subresource?: string;
  /** Who is writing (the authenticated user, or the kernel's identity), for admission steps. */
  userInfo?: AdmissionRequest["userInfo"];
}

/** The schema-driven services the storage needs; `core/types` and `core/api/patch` provide them. */
export interface SchemaServices {
  /**
   * The value with the fields the schema does not know dropped (built-in kinds
   * ignore them, as Go structs do); their paths (e.g. `spec.foo`) are appended
   * to `unknown` when given.
   */
  prune(schema: Schema, value: unknown, unknown?: string[]): unknown;
  /** managedFields after a non-apply write by `manager`. */
  updateManagedFields(args: {
    live: KubeObject | undefined;
    updated: KubeObject;
    schema: Schema | undefined;
    manager: string;
    apiVersion: string;
    now: string;
    subresource?: string;
  }): ManagedFieldsEntry[];
}

export interface DeleteRequest {
  gracePeriodSeconds?: number;
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun: boolean;
  /** Who is deleting, for admission steps. */
  userInfo?: AdmissionRequest["userInfo"];
}

const NS_TYPE_KEY = "namespaces";

/**
 * Thrown inside a store write when the object moved since it was admitted. An
 * ApiError so the store passes it through unchanged (it wraps anything else).
 */
const RETRY = new ApiError({ reason: "Conflict", message: "the object changed while it was being admitted; retrying" });

function qualified(type: ResourceType, name: string) {
  return { resource: type.plural, group: type.group, name };
}

/**
 * Per-kind work around the store write that is not validation: allocating
 * values (Service IPs and NodePorts). `reserve` runs after validation and
 * must be synchronous (for updates it runs inside the store's write); its
 * reservation is committed once the write is stored and rolled back if it
 * fails. `released` is told when an object is gone.
 */
export interface WriteHooks {
  reserve?(obj: KubeObject, old: KubeObject | undefined, dryRun: boolean): Reservation | void;
  released?(obj: KubeObject): void;
}

export interface Reservation {
  commit(): void;
  rollback(): void;
}

export class RestStorage {
  /** Plugins' admission steps; set by the kernel once plugins have registered. */
  admission: AdmissionChain | undefined;
  /** By type key (`services`). */
  readonly hooks = new Map<string, WriteHooks>();

  constructor(
    readonly store: Store,
    private readonly services: SchemaServices,
    private readonly namespaceType: ResourceType | undefined,
    /** A cache of active namespaces (the namespace lifecycle's watch); misses are checked in the store. */
    private readonly namespaces?: { isActive(name: string): boolean },
  ) {}

  // ---- create ---------------------------------------------------------------

  /** Creates an object; `opts.managedFields` replaces the computed ones (server-side apply). */
  async create(
    type: ResourceType,
    body: KubeObject,
    ctx: WriteContext,
    opts: { managedFields?: ManagedFieldsEntry[]; /** The kernel's own bootstrap objects. */ skipAdmission?: boolean } = {},
  ): Promise<StoredObject> {
    const obj = this.#admitBody(type, body, ctx);
    // As kube-apiserver: system fields first (a client's uid is replaced), so the
    // strategy can use the uid (a Job's controller-uid selector).
    obj.metadata.uid = crypto.randomUUID();
    if (type.subresources.status && type.strategy.prepareForCreate === undefined) delete obj.status;
    type.strategy.prepareForCreate?.(obj);
    this.#default(type, obj);
    // As upstream's NamespaceLifecycle, the first admission plugin: a missing or
    // terminating namespace is the answer before any other step runs. An active
    // namespace (the cached, usual case) needs no check and no extra await.
    const ns = obj.metadata.namespace ?? "";
    if (type.namespaced && !this.namespaces?.isActive(ns)) await this.#checkNamespaceOpen(ns, type);
    const steps = opts.skipAdmission ? [] : (this.admission?.for(type, undefined, "CREATE") ?? []);
    const req = steps.length ? this.#admissionRequest("CREATE", type, obj, undefined, ctx) : undefined;
    if (req) {
      await this.admission!.mutate(steps, req);
      this.#default(type, obj);
    }
    this.#validate(type, obj, undefined);
    if (req) await this.admission!.validate(steps, req);
    obj.metadata.managedFields = opts.managedFields ?? this.#managed(type, undefined, obj, ctx);
    const reservation = this.hooks.get(type.key)?.reserve?.(obj, undefined, ctx.dryRun);
    if (!reservation) return this.store.create(type, obj, { dryRun: ctx.dryRun, keepUid: true });
    try {
      const stored = await this.store.create(type, obj, { dryRun: ctx.dryRun, keepUid: true });
      reservation.commit();
      return stored;
    } catch (e) {
      reservation.rollback();
      throw e;
    }
  }

  // ---- update (PUT) ---------------------------------------------------------

  /** Replaces the object (or, with `ctx.subresource === "status"`, only its status). */
  async update(type: ResourceType, namespace: string, name: string, body: KubeObject, ctx: WriteContext): Promise<StoredObject> {
    const incoming = this.#admitBody(type, body, ctx);
    if (incoming.metadata.name !== name) {
      throw errors.badRequest(`the name of the object (${String(incoming.metadata.name)}) does not match the name on the URL (${name})`);
    }
    return this.mutate(type, namespace, name, () => incoming, ctx, { checkVersion: true });
  }

  /**
   * The shared read-modify-write path of PUT and PATCH: `next(current)` builds
   * the proposed object inside the store's write transaction, then the kind's
   * strategy, validation and managedFields apply.
   */
  async mutate(
    type: ResourceType,
    namespace: string,
    name: string,
    next: (current: KubeObject) => KubeObject,
    ctx: WriteContext,
    opts: {
      checkVersion: boolean;
      managedFields?: (cur: KubeObject, obj: KubeObject) => ManagedFieldsEntry[];
      /**
       * What the write may change: `main` (all but status, for kinds with a
       * status subresource), `status` (only status), `all` (subresources that
       * change both, like pods/binding). Default from `ctx.subresource`.
       */
      scope?: "main" | "status" | "all";
    },
  ): Promise<StoredObject> {
    const scope = opts.scope ?? (ctx.subresource === "status" ? "status" : "main");
    const steps = this.admission?.for(type, ctx.subresource, "UPDATE") ?? [];
    if (steps.length > 0) return this.#mutateAdmitted(type, namespace, name, next, ctx, opts, scope, steps);
    const hooks = this.hooks.get(type.key);
    if (!hooks?.reserve) {
      return this.store.guaranteedUpdate(type, namespace, name, (cur) => this.#buildUpdate(type, cur, next(cur), ctx, opts, scope), {
        dryRun: ctx.dryRun,
        keepGeneration: scope === "status",
      });
    }
    let reservation: Reservation | void = undefined;
    try {
      const stored = await this.store.guaranteedUpdate(
        type,
        namespace,
        name,
        (cur) => {
          const obj = this.#buildUpdate(type, cur, next(cur), ctx, opts, scope);
          reservation = hooks.reserve!(obj, cur, ctx.dryRun);
          return obj;
        },
        { dryRun: ctx.dryRun, keepGeneration: scope === "status" },
      );
      (reservation as Reservation | void)?.commit();
      return stored;
    } catch (e) {
      (reservation as Reservation | void)?.rollback();
      throw e;
    }
  }

  /**
   * An update with admission steps, which may be async and so cannot run in
   * the store's synchronous write: build and admit against the live object,
   * then write only if it is still that version (else start again, as
   * kube-apiserver's GuaranteedUpdate retries).
   */
  async #mutateAdmitted(
    type: ResourceType,
    namespace: string,
    name: string,
    next: (current: KubeObject) => KubeObject,
    ctx: WriteContext,
    opts: { checkVersion: boolean; managedFields?: (cur: KubeObject, obj: KubeObject) => ManagedFieldsEntry[] },
    scope: "main" | "status" | "all",
    steps: Admission[],
  ): Promise<StoredObject> {
    for (let attempt = 0; ; attempt++) {
      const live = await this.store.get(type, namespace, name);
      const cur = structuredClone(live.object);
      const obj = this.#buildUpdate(type, cur, next(cur), ctx, opts, scope);
      const req = this.#admissionRequest("UPDATE", type, obj, live.object, ctx);
      const before = JSON.stringify(obj);
      await this.admission!.mutate(steps, req);
      if (JSON.stringify(obj) !== before) {
        // A step changed it: default, validate and track fields again.
        this.#default(type, obj);
        this.#validate(type, obj, live.object);
        obj.metadata.managedFields = opts.managedFields ? opts.managedFields(live.object, obj) : this.#managed(type, live.object, obj, ctx);
      }
      await this.admission!.validate(steps, req);
      const admitted = obj;
      const hooks = this.hooks.get(type.key);
      let reservation: Reservation | void = undefined;
      try {
        const stored = await this.store.guaranteedUpdate(
          type,
          namespace,
          name,
          (now) => {
            if (now.metadata.resourceVersion !== live.object.metadata.resourceVersion) throw RETRY;
            reservation = hooks?.reserve?.(admitted, live.object, ctx.dryRun);
            return admitted;
          },
          { dryRun: ctx.dryRun, keepGeneration: scope === "status" },
        );
        (reservation as Reservation | void)?.commit();
        return stored;
      } catch (e) {
        (reservation as Reservation | void)?.rollback();
        if (e !== RETRY || attempt >= 10) throw e === RETRY ? errors.conflict(qualified(type, name)) : e;
      }
    }
  }

  /** The proposed object after the kind's strategy, defaults, validation and managedFields. */
  #buildUpdate(
    type: ResourceType,
    cur: KubeObject,
    proposed: KubeObject,
    ctx: WriteContext,
    opts: { checkVersion: boolean; managedFields?: (cur: KubeObject, obj: KubeObject) => ManagedFieldsEntry[] },
    scope: "main" | "status" | "all",
  ): KubeObject {
    const rv = proposed.metadata?.resourceVersion;
    if (opts.checkVersion && rv && rv !== cur.metadata.resourceVersion) throw errors.conflict(qualified(type, cur.metadata.name ?? ""));
    let obj: KubeObject;
    if (scope === "status") {
      obj = { ...cur, status: proposed.status };
      if (proposed.status === undefined) delete obj.status;
      type.strategy.prepareForStatusUpdate?.(obj, proposed);
    } else if (scope === "all") {
      obj = proposed;
    } else {
      obj = proposed;
      if (type.subresources.status) {
        if (cur.status === undefined) delete obj.status;
        else obj.status = cur.status;
      }
      type.strategy.prepareForUpdate?.(obj, cur);
    }
    obj.metadata.resourceVersion = cur.metadata.resourceVersion!;
    if (cur.metadata.deletionTimestamp) {
      const had = new Set(cur.metadata.finalizers ?? []);
      const added = (obj.metadata.finalizers ?? []).filter((f) => !had.has(f));
      if (added.length > 0) {
        throw errors.invalid({
          kind: type.kind,
          group: type.group,
          name: cur.metadata.name ?? "",
          causes: [
            {
              reason: "FieldValueForbidden",
              field: "metadata.finalizers",
              message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(", ")}}`,
            },
          ],
        });
      }
    }
    this.#default(type, obj);
    this.#validate(type, obj, cur);
    obj.metadata.managedFields = opts.managedFields ? opts.managedFields(cur, obj) : this.#managed(type, cur, obj, ctx);
    return obj;
  }

  // ---- delete ---------------------------------------------------------------

  /**
   * Deletes per Kubernetes: finalizers, Foreground/Orphan propagation and a
   * grace period (pods bound to a node) keep the object with a
   * deletionTimestamp; otherwise it is removed now. Returns the object and
   * whether it is gone.
   */
  async delete(type: ResourceType, namespace: string, name: string, req: DeleteRequest): Promise<{ object: StoredObject; gone: boolean }> {
    const live = await this.store.get(type, namespace, name);
    const cur = live.object;
    const steps = this.admission?.for(type, undefined, "DELETE") ?? [];
    if (steps.length > 0) {
      const ctx: WriteContext = { fieldManager: "", fieldValidation: "Ignore", dryRun: req.dryRun, warnings: [], ...(req.userInfo ? { userInfo: req.userInfo } : {}) };
      await this.admission!.validate(steps, this.#admissionRequest("DELETE", type, undefined, cur, ctx, name, namespace));
    }
    const finalizers: string[] = [];
    if (req.propagationPolicy === "Orphan") finalizers.push("orphan");
    if (req.propagationPolicy === "Foreground") finalizers.push("foregroundDeletion");
    const grace = this.#gracePeriod(type, cur, req);
    const held = finalizers.length > 0 || (cur.metadata.finalizers?.length ?? 0) > 0 || grace > 0;
    if (type.key === NS_TYPE_KEY) {
      // A namespace is held Terminating until the namespace lifecycle has emptied it.
      if (!req.dryRun && cur.metadata.deletionTimestamp === undefined) {
        await this.store.guaranteedUpdate(type, "", name, (o) => ({ ...o, status: { ...(o.status as object), phase: "Terminating" } }));
      }
      const marked = await this.store.delete(type, "", name, {
        dryRun: req.dryRun,
        graceful: { gracePeriodSeconds: 0, finalizers, hold: true },
        ...(req.preconditions ? { preconditions: req.preconditions } : {}),
      });
      return { object: marked, gone: false };
    }
    const object = await this.store.delete(type, namespace, name, {
      dryRun: req.dryRun,
      ...(req.preconditions ? { preconditions: req.preconditions } : {}),
      ...(held ? { graceful: { gracePeriodSeconds: grace, finalizers } } : {}),
    });
    const gone = !held || (req.dryRun ? false : object.object.metadata.deletionTimestamp === undefined);
    if (gone && !req.dryRun) this.hooks.get(type.key)?.released?.(object.object);
    return { object, gone };
  }

  /** Pods bound to a node get their grace period; everything else is deleted at once. */
  #gracePeriod(type: ResourceType, obj: KubeObject, req: DeleteRequest): number {
    if (type.key !== "pods") return 0;
    const spec = obj.spec as { nodeName?: string; terminationGracePeriodSeconds?: number } | undefined;
    const phase = (obj.status as { phase?: string } | undefined)?.phase;
    if (!spec?.nodeName || phase === "Succeeded" || phase === "Failed") return 0;
    return Math.max(0, req.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30);
  }

  // ---- shared steps ----------------------------------------------------------

  /**
   * Field validation and pruning of the incoming body. Takes ownership of
   * `body` (callers pass freshly decoded objects) and may change it.
   */
  #admitBody(type: ResourceType, body: KubeObject, ctx: WriteContext): KubeObject {
    let obj = body;
    if (type.schema) {
      // One pass drops the fields the schema does not know and reports them.
      const unknown = ctx.fieldValidation !== "Ignore" ? ([] as string[]) : undefined;
      obj = this.services.prune(type.schema, obj, unknown) as KubeObject;
      if (unknown && unknown.length > 0) {
        if (ctx.fieldValidation === "Strict") {
          const list = unknown.map((f) => `unknown field ${JSON.stringify(f)}`).join(", ");
          throw errors.badRequest(
            `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${list}`,
          );
        }
        for (const f of unknown) ctx.warnings.push(`unknown field ${JSON.stringify(f)}`);
      }
    }
    // kind and apiVersion first, as Kubernetes serializes them.
    const { apiVersion: _a, kind: _k, ...rest } = obj;
    return { kind: type.kind, apiVersion: type.group ? `${type.group}/${type.version}` : type.version, ...rest } as KubeObject;
  }

  #admissionRequest(
    operation: AdmissionRequest["operation"],
    type: ResourceType,
    obj: KubeObject | undefined,
    old: KubeObject | undefined,
    ctx: WriteContext,
    name = obj?.metadata.name ?? old?.metadata.name ?? "",
    namespace = obj?.metadata.namespace ?? old?.metadata.namespace ?? "",
  ): AdmissionRequest {
    return {
      operation,
      group: type.group,
      version: type.version,
      resource: type.plural,
      ...(ctx.subresource ? { subresource: ctx.subresource } : {}),
      namespace,
      name,
      ...(obj ? { object: obj as Record<string, unknown> } : {}),
      ...(old ? { oldObject: old as Record<string, unknown> } : {}),
      dryRun: ctx.dryRun,
      ...(ctx.userInfo ? { userInfo: ctx.userInfo } : {}),
      warnings: ctx.warnings,
    };
  }

  #default(type: ResourceType, obj: KubeObject): void {
    type.strategy.defaults?.(obj);
  }

  #validate(type: ResourceType, obj: KubeObject, old: KubeObject | undefined): void {
    const causes: StatusCause[] = type.strategy.validate?.(obj, old) ?? [];
    if (causes.length > 0) {
      throw errors.invalid({ kind: type.kind, group: type.group, name: obj.metadata.name ?? "", causes });
    }
  }

  #managed(type: ResourceType, live: KubeObject | undefined, obj: KubeObject, ctx: WriteContext): ManagedFieldsEntry[] {
    if (live && deepEqual(stripManaged(live), stripManaged(obj))) return live.metadata.managedFields ?? [];
    return this.services.updateManagedFields({
      live,
      updated: obj,
      schema: type.schema,
      manager: ctx.fieldManager,
      apiVersion: obj.apiVersion ?? type.version,
      now: nowRfc3339(),
      ...(ctx.subresource ? { subresource: ctx.subresource } : {}),
    });
  }

  /** Objects may be created only in a namespace that exists and is not terminating. */
  async #checkNamespaceOpen(namespace: string, type: ResourceType): Promise<void> {
    if (!this.namespaceType) return;
    if (this.namespaces?.isActive(namespace)) return;
    let ns: KubeObject;
    try {
      ns = (await this.store.get(this.namespaceType, "", namespace)).object;
    } catch (e) {
      if (e instanceof ApiError && e.reason === "NotFound") throw errors.notFound({ resource: "namespaces", group: "", name: namespace });
      throw e;
    }
    if (ns.metadata.deletionTimestamp !== undefined) {
      throw errors.forbidden(
        qualified(type, ""),
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
  }
}

function stripManaged(o: KubeObject): KubeObject {
  const { managedFields: _m, resourceVersion: _r, ...meta } = o.metadata;
  return { ...o, metadata: meta };
}
