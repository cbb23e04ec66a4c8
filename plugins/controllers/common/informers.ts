/**
 * @module Indexes the controllers add to shared informers. Informers are
 * shared by every plugin of a process and an index can be added only once,
 * so each index has one name and one function, defined here.
 */
import type { KubeObject } from "../../../core/api/meta.ts";
import type { Informer } from "../../../core/client/types.ts";
import { controllerRefOf } from "./owner-refs.ts";

/** Objects by the uid of their controller (`ownerReferences[controller=true].uid`). */
export const CONTROLLER_UID_INDEX = "controllers/controller-uid";
/** Objects without a controller, by namespace: candidates for adoption. */
export const ORPHANS_INDEX = "controllers/orphans";
/** Objects by the uid of every owner they reference. */
export const OWNER_UID_INDEX = "controllers/owner-uid";

const FUNCTIONS: Record<string, (o: KubeObject) => string[]> = {
  [CONTROLLER_UID_INDEX]: (o) => {
    const r = controllerRefOf(o);
    return r ? [r.uid] : [];
  },
  [ORPHANS_INDEX]: (o) => (controllerRefOf(o) ? [] : [o.metadata.namespace ?? ""]),
  [OWNER_UID_INDEX]: (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid),
};

/** Adds the named index unless the informer already has it. */
export function ensureIndex<T extends KubeObject>(informer: Informer<T>, name: keyof typeof FUNCTIONS | string): void {
  try {
    informer.byIndex(name, "");
    return;
  } catch {
    // not there yet
  }
  const fn = FUNCTIONS[name];
  if (!fn) throw new Error(`unknown controller index ${name}`);
  informer.addIndex(name, fn as (o: T) => string[]);
}
