/**
 * @module The `service-account` admission plugin: pods get their
 * ServiceAccount (default `default`), must name one that exists, and get the
 * projected API token volume. See admission.ts. The `default` accounts come
 * from the serviceaccount-controller plugin, the `kube-root-ca.crt`
 * ConfigMaps the volume mounts from the root-ca-cert-publisher plugin.
 */
import type { KubeObject } from "../../../core/api/meta.ts";
import { admissionPlugin, SERVICE_ACCOUNTS } from "../common.ts";
import { ServiceAccountAdmission } from "./admission.ts";

export const NAME = "service-account";
export * from "./admission.ts";

export function createServiceAccountAdmissionPlugin() {
  return admissionPlugin({
    name: NAME,
    description: "ServiceAccount admission: default service account, existence check and the projected token volume.",
    steps: ({ client, informers }) => [new ServiceAccountAdmission(client, informers.informer<KubeObject>(SERVICE_ACCOUNTS))],
  });
}
