/**
 * @module The ServiceAccount admission step (upstream
 * `plugin/pkg/admission/serviceaccount`), on pod creation:
 *
 * - `spec.serviceAccountName` defaults to `default` (mirror pods are left
 *   alone, and may not reference a service account);
 * - the ServiceAccount must exist: looked up in the informer cache, then
 *   live (for `default`, up to 10 times 100–200 ms apart, since the
 *   serviceaccount controller creates it just after the namespace); else
 *   403 `error looking up service account <ns>/<name>: …`;
 * - unless `automountServiceAccountToken: false` (the pod's wins over the
 *   ServiceAccount's), a projected volume `kube-api-access-<5 random>` (a
 *   bound token with `expirationSeconds: 3607`, `kube-root-ca.crt`'s
 *   `ca.crt`, the namespace from the downward API; mode 0644) is added and
 *   mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in
 *   every container and init container that has nothing mounted there.
 */
import { errors, isApiError } from "../../../core/api/errors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import type { Client, Informer } from "../../../core/client/types.ts";
import type { Admission, AdmissionRequest } from "../../../core/plugin/types.ts";
import { type PodSpec, SERVICE_ACCOUNTS, sleep } from "../common.ts";

export const DEFAULT_SERVICE_ACCOUNT = "default";
export const TOKEN_VOLUME_PREFIX = "kube-api-access-";
export const TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";
/** serviceaccount.WarnOnlyBoundTokenExpirationSeconds: one hour and 7 s, so the kubelet's refresh is recognisable. */
export const TOKEN_EXPIRATION_SECONDS = 3607;
const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";

/** utilrand.String's alphabet: no vowels, no confusable digits. */
const ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";
export function randomSuffix(n = 5): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return [...bytes].map((b) => ALPHANUMS[b % ALPHANUMS.length]).join("");
}

/** The projected token volume (upstream `TokenVolumeSource`). */
export function tokenVolume(name: string): { name: string } & Record<string, unknown> {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: "token" } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: "ca.crt", path: "ca.crt" }] } },
        { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
      ],
    },
  };
}

export interface ServiceAccountAdmissionOptions {
  /** Pause between live lookups of the default ServiceAccount (default 100–200 ms). */
  retryMs?: () => number;
}

export class ServiceAccountAdmission implements Admission {
  readonly name = "ServiceAccount";
  readonly operations: AdmissionRequest["operation"][] = ["CREATE"];
  readonly resources = ["pods"];

  constructor(
    private readonly client: Client,
    private readonly cache: Informer | undefined,
    private readonly opts: ServiceAccountAdmissionOptions = {},
  ) {}

  async mutate(req: AdmissionRequest): Promise<void> {
    if (req.operation !== "CREATE" || req.subresource || !req.object) return;
    const pod = req.object as KubeObject & { spec?: PodSpec };
    const spec = (pod.spec ??= {});
    if (pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
    if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
    spec.serviceAccount = spec.serviceAccountName;
    const sa = await this.#lookup(req, spec.serviceAccountName);
    const automount = spec.automountServiceAccountToken ?? (sa as { automountServiceAccountToken?: boolean }).automountServiceAccountToken ?? true;
    if (automount) mountToken(spec);
  }

  validate(req: AdmissionRequest): void {
    if (req.operation !== "CREATE" || req.subresource || !req.object) return;
    const pod = req.object as KubeObject & { spec?: PodSpec };
    if (pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] === undefined) return;
    const q = { resource: "pods", group: "", name: req.name };
    if (pod.spec?.serviceAccountName) throw errors.forbidden(q, "a mirror pod may not reference service accounts");
    if ((pod.spec?.volumes ?? []).some((v) => v.projected && JSON.stringify(v.projected).includes('"serviceAccountToken"'))) {
      throw errors.forbidden(q, "a mirror pod may not use ServiceAccountToken volume projections");
    }
  }

  async #lookup(req: AdmissionRequest, name: string): Promise<KubeObject> {
    const cached = this.cache?.get(name, req.namespace);
    if (cached) return cached;
    const attempts = name === DEFAULT_SERVICE_ACCOUNT ? 10 : 1;
    for (let i = 0; ; i++) {
      try {
        return await this.client.get(SERVICE_ACCOUNTS, name, { namespace: req.namespace });
      } catch (e) {
        if (!isApiError(e, "NotFound")) throw lookupError(req, name, e);
        if (i + 1 >= attempts) throw lookupError(req, name, e);
      }
      await sleep(this.opts.retryMs?.() ?? 100 + Math.floor(Math.random() * 100));
    }
  }
}

function lookupError(req: AdmissionRequest, name: string, e: unknown) {
  const why = isApiError(e, "NotFound") ? `serviceaccount "${name}" not found` : e instanceof Error ? e.message : String(e);
  return errors.forbidden({ resource: "pods", group: "", name: req.name }, `error looking up service account ${req.namespace}/${name}: ${why}`);
}

/** Adds the token volume and its mounts (upstream `mountServiceAccountToken`). */
export function mountToken(spec: PodSpec): void {
  let volumeName = (spec.volumes ?? []).find((v) => v.name.startsWith(TOKEN_VOLUME_PREFIX))?.name;
  const hasVolume = volumeName !== undefined;
  volumeName ??= TOKEN_VOLUME_PREFIX + randomSuffix();
  let needed = false;
  for (const list of [spec.initContainers, spec.containers]) {
    for (const c of list ?? []) {
      if ((c.volumeMounts ?? []).some((m) => m.mountPath === TOKEN_MOUNT_PATH)) continue;
      c.volumeMounts = [...(c.volumeMounts ?? []), { name: volumeName, readOnly: true, mountPath: TOKEN_MOUNT_PATH }];
      needed = true;
    }
  }
  if (!hasVolume && needed) spec.volumes = [...(spec.volumes ?? []), tokenVolume(volumeName)];
}
