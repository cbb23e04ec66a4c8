/**
 * @module The `node-restriction` admission plugin: wires the kernel's
 * NodeRestriction step (core/server/auth/node-restriction.ts, upstream's
 * `plugin/pkg/admission/noderestriction`) into the chain. It restricts what
 * node identities (`system:node:<name>` in `system:nodes`) may write; every
 * other user, and a server running without authentication (no node
 * identities exist then), passes untouched.
 */
import { NodeRestriction } from "../../../core/server/auth/node-restriction.ts";
import { admissionPlugin } from "../common.ts";

export const NAME = "node-restriction";

export function createNodeRestrictionPlugin() {
  return admissionPlugin({
    name: NAME,
    description: "NodeRestriction admission: nodes may only modify their own Node, Lease and pods.",
    steps: ({ informers }) => [new NodeRestriction(informers)],
  });
}
