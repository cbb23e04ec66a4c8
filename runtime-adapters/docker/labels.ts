/**
 * @module How the docker runtime records what the agent passed in, as
 * Docker container labels, so that a fresh adapter (after an agent restart)
 * hands back the same sandboxes and containers: labels and annotations are
 * stored whole as JSON, the fields the adapter filters on as labels of
 * their own.
 */

export const L = {
  /** Which adapter instance owns it (`instance` config); list filters on it. */
  instance: "skiff.dev/docker-instance",
  /** `sandbox` or `container`. */
  kind: "skiff.dev/kind",
  podUid: "skiff.dev/pod-uid",
  podName: "skiff.dev/pod-name",
  podNamespace: "skiff.dev/pod-namespace",
  attempt: "skiff.dev/attempt",
  labels: "skiff.dev/labels",
  annotations: "skiff.dev/annotations",
  hostNetwork: "skiff.dev/host-network",
  /** On a container: its sandbox's id. */
  sandbox: "skiff.dev/sandbox-id",
  name: "skiff.dev/container-name",
  logPath: "skiff.dev/log-path",
} as const;

export function encodeMap(m: Record<string, string>): string {
  return JSON.stringify(m);
}

export function decodeMap(s: string | undefined): Record<string, string> {
  if (!s) return {};
  try {
    const v = JSON.parse(s);
    return v && typeof v === "object" ? v : {};
  } catch {
    return {};
  }
}

/** The Engine API's `filters` query value for containers carrying all these labels. */
export function labelFilter(labels: Record<string, string>): string {
  return JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
}

/** A Docker container name part: `[a-zA-Z0-9_.-]`. */
export function namePart(s: string): string {
  return s.replace(/[^a-zA-Z0-9_.-]/g, "-");
}
