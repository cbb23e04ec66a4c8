/**
 * @module The `limit-ranger` admission plugin: LimitRange defaults applied
 * to pods' containers, and their min/max/ratio enforced. See admission.ts.
 */
import { admissionPlugin, LIMIT_RANGES } from "../common.ts";
import { LimitRanger } from "./admission.ts";

export const NAME = "limit-ranger";
export * from "./admission.ts";

export function createLimitRangerPlugin() {
  return admissionPlugin({
    name: NAME,
    description: "LimitRanger admission: LimitRange defaults and min/max/ratio for pods.",
    steps: ({ client, informers }) => [new LimitRanger(client, informers.informer(LIMIT_RANGES))],
  });
}
