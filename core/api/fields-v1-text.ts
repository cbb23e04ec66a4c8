/**
 * @module `fieldsV1` trees known by their JSON text. The create path writes
 * a new object's ownership tree as text (`patch/apply/created.ts`), and the
 * store serializes the object with that text (`store/object-json.ts`); the
 * tree is parsed from it only if something reads `fieldsV1` — which, on a
 * create, nothing usually does: responses and watch events carry the
 * store's bytes, and the kernel's informers drop managedFields.
 *
 * The entry's `fieldsV1` is an accessor that parses the text on first read
 * and returns that same tree from then on; an assignment replaces it. The
 * text stands for the tree only while the tree was never handed out (read
 * or replaced), so a serialization can never see stale text.
 */

/** Entries whose `fieldsV1` has not been read or replaced yet, with its text. */
const pending = new WeakMap<object, string>();

/**
 * Defines `entry.fieldsV1` as the tree `text` encodes, parsed on first read
 * (an own, enumerable property, in the position it is defined in).
 */
export function defineLazyFieldsV1(entry: object, text: string): void {
  let tree: unknown;
  let parsed = false;
  pending.set(entry, text);
  Object.defineProperty(entry, "fieldsV1", {
    enumerable: true,
    configurable: true,
    get(this: object): unknown {
      if (!parsed) {
        tree = JSON.parse(text) as unknown;
        parsed = true;
        pending.delete(entry);
      }
      return tree;
    },
    set(this: object, v: unknown) {
      // As a data property of a frozen object would (the cache mutation detector freezes shared objects).
      if (Object.isFrozen(entry)) throw new TypeError("Attempted to assign to readonly property.");
      tree = v;
      parsed = true;
      pending.delete(entry);
    },
  });
}

/** The text of `entry.fieldsV1` while its tree was never read or replaced; else undefined. */
export function pendingFieldsV1Text(entry: object): string | undefined {
  return pending.get(entry);
}
