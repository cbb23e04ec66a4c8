/**
 * @module Storage conversions for group-resources served in more than one
 * shape. The store keeps one object per name under a storage key; every
 * served version is a view of it. The REST layer (not this module) is
 * expected to convert a write with `toStorage` before storing it, and every
 * read, list item and watch event with `fromStorage` into the version of the
 * request. Functions are pure: they return new objects.
 *
 * - `horizontalpodautoscalers.autoscaling`: stored as autoscaling/v2; served as
 *   autoscaling/v2 and autoscaling/v1 (see autoscaling-v1/hpa-conversion.ts).
 * - `events`: stored as core/v1; served as core/v1 and events.k8s.io/v1. The
 *   events.k8s.io Event's default registry key is `events.events.k8s.io`, so
 *   its ResourceTypeInit needs a storage-key override to share `events`.
 */
import type { KubeObject } from "../api/meta.ts";
import { hpaV1ToV2, hpaV2ToV1, HPA_V1, HPA_V2 } from "./autoscaling-v1/hpa-conversion.ts";
import { CORE_EVENT_VERSION, coreEventToEventsV1, EVENTS_V1_VERSION, eventsV1ToCoreEvent } from "./events-v1/event-conversion.ts";
import { cloneJson } from "./object-access.ts";

export interface StorageConversion {
  /** The apiVersion objects are stored in (`autoscaling/v2`, `v1`). */
  storageVersion: string;
  /** Every apiVersion served from this storage key, the storage version first. */
  servedVersions: string[];
  /** The object (in any served version, told by its `apiVersion`) in storage form. Throws on an unknown apiVersion. */
  toStorage(obj: KubeObject): KubeObject;
  /**
   * A stored object as `apiVersion` shows it. `apiVersion` is the full
   * group/version (`autoscaling/v1`, `events.k8s.io/v1`, `v1`), since a bare
   * `v1` would be ambiguous for events. Throws on an unknown apiVersion.
   */
  fromStorage(obj: KubeObject, apiVersion: string): KubeObject;
}

export class UnknownVersionError extends Error {
  constructor(key: string, apiVersion: unknown) {
    super(`${key}: no conversion for apiVersion ${String(apiVersion)}`);
    this.name = "UnknownVersionError";
  }
}

function table(
  key: string,
  storageVersion: string,
  views: Record<string, { toStorage(o: KubeObject): KubeObject; fromStorage(o: KubeObject): KubeObject }>,
): StorageConversion {
  const identity = (o: KubeObject): KubeObject => ({ ...cloneJson(o), apiVersion: storageVersion });
  const pick = (apiVersion: unknown) => {
    if (apiVersion === storageVersion) return { toStorage: identity, fromStorage: identity };
    const v = typeof apiVersion === "string" ? views[apiVersion] : undefined;
    if (!v) throw new UnknownVersionError(key, apiVersion);
    return v;
  };
  return {
    storageVersion,
    servedVersions: [storageVersion, ...Object.keys(views)],
    toStorage: (o) => pick(o.apiVersion).toStorage(o),
    fromStorage: (o, apiVersion) => pick(apiVersion).fromStorage(o),
  };
}

/** Storage key of HorizontalPodAutoscalers (both versions; `defineType` computes it for each). */
export const HPA_STORAGE_KEY = "horizontalpodautoscalers.autoscaling";
/** Storage key shared by core/v1 and events.k8s.io/v1 Events (events.k8s.io needs an override to use it). */
export const EVENTS_STORAGE_KEY = "events";

/** Conversions by storage key; see the module comment for how the server is meant to use them. */
export const conversions: Record<string, StorageConversion> = {
  [HPA_STORAGE_KEY]: table(HPA_STORAGE_KEY, HPA_V2, { [HPA_V1]: { toStorage: hpaV1ToV2, fromStorage: hpaV2ToV1 } }),
  [EVENTS_STORAGE_KEY]: table(EVENTS_STORAGE_KEY, CORE_EVENT_VERSION, {
    [EVENTS_V1_VERSION]: { toStorage: eventsV1ToCoreEvent, fromStorage: coreEventToEventsV1 },
  }),
};

/**
 * The storage key each built-in type should use when it differs from what
 * `defineType` computes (`plural.group`): `events.k8s.io/v1 events` → `events`.
 * Keyed by `group/version/plural`.
 */
export const storageKeyOverrides: Record<string, string> = {
  "events.k8s.io/v1/events": EVENTS_STORAGE_KEY,
};
