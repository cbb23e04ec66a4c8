/**
 * @module Label selectors of workload objects, compiled once per cached
 * object (informer objects are immutable and replaced on change, so a
 * WeakMap keyed by the object is a correct cache).
 */
import { labelSelectorFromObject, labelSelectorFromSet, type LabelSelector, type LabelSelectorObject } from "../../../core/api/selectors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";

const NOTHING: LabelSelector = Object.freeze({
  requirements: [],
  empty: false,
  matches: () => false,
  toString: () => "<none>",
}) as LabelSelector;

const cache = new WeakMap<object, LabelSelector>();

/** A metav1.LabelSelector (`matchLabels`/`matchExpressions`) → selector; a malformed one matches nothing. */
export function selectorOf(obj: KubeObject, sel: LabelSelectorObject | undefined): LabelSelector {
  let s = cache.get(obj);
  if (!s) {
    try {
      s = sel ? labelSelectorFromObject(sel) : NOTHING;
    } catch {
      s = NOTHING;
    }
    cache.set(obj, s);
  }
  return s;
}

/** A ReplicationController's plain map selector; an empty map matches nothing here (it is invalid). */
export function mapSelectorOf(obj: KubeObject, sel: Record<string, string> | undefined): LabelSelector {
  let s = cache.get(obj);
  if (!s) {
    try {
      s = sel && Object.keys(sel).length > 0 ? labelSelectorFromSet(sel) : NOTHING;
    } catch {
      s = NOTHING;
    }
    cache.set(obj, s);
  }
  return s;
}

/** Whether a metav1.LabelSelector is the empty one (selects everything). */
export function isEmptySelector(sel: LabelSelectorObject | undefined): boolean {
  if (!sel) return true;
  return Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
}
