/**
 * @module Images as the kubelet's image manager handles them: the container's
 * `imagePullPolicy` (Always: pull at every start; IfNotPresent: pull only when
 * the runtime lacks the image; Never: ErrImageNeverPull when it lacks it),
 * the Pulling / Pulled / Failed events with upstream's messages, and registry
 * credentials from the pod's `imagePullSecrets` (`kubernetes.io/dockerconfigjson`
 * and `kubernetes.io/dockercfg` Secrets) matched against the image's registry
 * the way the kubelet's credential keyring does (host globs, port, path
 * prefix; most specific first; each candidate tried in turn).
 */
import type { Client } from "../../core/client/types.ts";
import type { RegistryAuth, RuntimeAdapter } from "../../core/runtime/adapter.ts";
import { defaultPullPolicy } from "../../core/types/core-v1/image.ts";

export type PullPolicy = "Always" | "IfNotPresent" | "Never";

const secretsRef = { group: "", version: "v1", resource: "secrets" } as const;
const DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson";
const DOCKER_CFG = "kubernetes.io/dockercfg";

/** One entry of a docker config (`auths.<key>` / `.dockercfg`'s `<key>`). */
interface DockerConfigEntry {
  username?: string;
  password?: string;
  auth?: string;
  identitytoken?: string;
  registrytoken?: string;
}

interface KeyringEntry {
  key: string;
  host: string;
  port: string;
  path: string;
  auth: RegistryAuth;
}

/** Splits `[scheme://]host[:port][/path]` as the kubelet's ParseSchemelessURL. */
function splitKey(raw: string): { host: string; port: string; path: string } {
  const s = raw.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const slash = s.indexOf("/");
  const hostPort = slash < 0 ? s : s.slice(0, slash);
  const path = slash < 0 ? "" : s.slice(slash);
  const m = /^(.*?)(?::(\d+))?$/.exec(hostPort)!;
  let host = m[1]!.toLowerCase();
  // The Docker Hub's historic keys all mean docker.io.
  if (host === "index.docker.io" || host === "registry-1.docker.io") host = "docker.io";
  return { host, port: m[2] ?? "", path: path === "/v1/" || path === "/v1" ? "" : path.replace(/\/+$/, "") };
}

/** filepath.Match for one DNS label: `*` matches any run of characters. */
function globLabel(pattern: string, label: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
  return re.test(label);
}

/** The image's registry host (docker.io when it names none) and its path, as the keyring compares them. */
export function imageRegistry(image: string): { host: string; port: string; path: string } {
  const first = image.split("/")[0]!;
  const hasDomain = image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  const withDomain = hasDomain ? image : `docker.io/${image.includes("/") ? image : `library/${image}`}`;
  const { host, port, path } = splitKey(withDomain);
  return { host, port, path };
}

/** Credentials for registries, looked up by image (the kubelet's BasicDockerKeyring). */
export class DockerKeyring {
  readonly #entries: KeyringEntry[] = [];

  /** Adds the entries of a docker config (`{ "<registry>": { username, password, auth … } }`). */
  add(config: Record<string, DockerConfigEntry>): void {
    for (const [key, e] of Object.entries(config)) {
      if (!e || typeof e !== "object") continue;
      const { host, port, path } = splitKey(key);
      if (!host) continue;
      let { username, password } = e;
      if (e.auth && username === undefined && password === undefined) {
        const decoded = Buffer.from(e.auth, "base64").toString("utf8");
        const colon = decoded.indexOf(":");
        if (colon > 0) [username, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
      }
      const serverAddress = port ? `${host}:${port}` : host;
      const auth: RegistryAuth = {
        serverAddress,
        ...(username !== undefined ? { username } : {}),
        ...(password !== undefined ? { password } : {}),
        ...(e.auth ? { auth: e.auth } : {}),
        ...(e.identitytoken ? { identityToken: e.identitytoken } : {}),
        ...(e.registrytoken ? { registryToken: e.registrytoken } : {}),
      };
      this.#entries.push({ key, host, port, path, auth });
    }
  }

  /** Credentials whose key matches the image, most specific key first. */
  lookup(image: string): RegistryAuth[] {
    const target = imageRegistry(image);
    const labels = target.host.split(".");
    return this.#entries
      .filter((e) => {
        const pl = e.host.split(".");
        if (pl.length !== labels.length || !pl.every((p, i) => globLabel(p, labels[i]!))) return false;
        if (e.port !== target.port) return false;
        return e.path === "" || target.path === e.path || target.path.startsWith(`${e.path}/`);
      })
      .sort((a, b) => b.key.length - a.key.length)
      .map((e) => e.auth);
  }

  get size(): number {
    return this.#entries.length;
  }
}

/** The Secrets a pod's imagePullSecrets name, as a keyring; names it could not use are reported. */
export async function pullSecretsKeyring(
  client: Pick<Client, "get">,
  pod: { metadata: { namespace?: string }; spec: object },
): Promise<{ keyring: DockerKeyring; missing: string[] }> {
  const keyring = new DockerKeyring();
  const missing: string[] = [];
  for (const ref of (pod.spec as { imagePullSecrets?: { name?: string }[] }).imagePullSecrets ?? []) {
    if (!ref.name) continue;
    let secret: { type?: string; data?: Record<string, string> };
    try {
      secret = (await client.get(secretsRef, ref.name, { namespace: pod.metadata.namespace! })) as typeof secret;
    } catch {
      missing.push(ref.name);
      continue;
    }
    try {
      if (secret.type === DOCKER_CONFIG_JSON && secret.data?.[".dockerconfigjson"]) {
        const cfg = JSON.parse(Buffer.from(secret.data[".dockerconfigjson"], "base64").toString("utf8")) as { auths?: Record<string, DockerConfigEntry> };
        keyring.add(cfg.auths ?? {});
      } else if (secret.type === DOCKER_CFG && secret.data?.[".dockercfg"]) {
        keyring.add(JSON.parse(Buffer.from(secret.data[".dockercfg"], "base64").toString("utf8")) as Record<string, DockerConfigEntry>);
      } else {
        missing.push(ref.name);
      }
    } catch {
      missing.push(ref.name);
    }
  }
  return { keyring, missing };
}

/** The policy in effect: the container's, else the API default for its tag. */
export function pullPolicy(image: string, policy: string | undefined): PullPolicy {
  if (policy === "Always" || policy === "IfNotPresent" || policy === "Never") return policy;
  return defaultPullPolicy(image);
}

export type EnsureImageResult = { ok: true; ref: string } | { ok: false; reason: "ErrImagePull" | "ErrImageNeverPull" | "InvalidImageName"; message: string };

export interface EnsureImageOptions {
  runtime: RuntimeAdapter;
  image: string;
  policy?: string;
  /** Credentials to try, in order (anonymous when empty or absent); called only when a pull happens. */
  credentials?: () => Promise<RegistryAuth[]>;
  /** Records an Event about the pod (kubelet's reasons and messages). */
  event(type: "Normal" | "Warning", reason: string, message: string): void;
  now?: () => number;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(3).replace(/\.?0+$/, "")}s`;
}

/**
 * Makes the image present as the policy says (the kubelet's EnsureImageExists).
 * Runtimes without images (`capabilities.images` false) are only asked for a
 * reference: there is nothing to pull.
 */
export async function ensureImage(o: EnsureImageOptions): Promise<EnsureImageResult> {
  const { runtime, image } = o;
  const now = o.now ?? Date.now;
  if (!image) return { ok: false, reason: "InvalidImageName", message: "the container has no image" };
  if (!runtime.capabilities.images) {
    const ref = await runtime.pullImage(image);
    o.event("Normal", "Pulled", `Container image "${image}" already present on machine`);
    return { ok: true, ref };
  }
  const policy = pullPolicy(image, o.policy);
  if (policy !== "Always") {
    const present = await runtime.imageStatus(image).catch(() => null);
    if (present) {
      o.event("Normal", "Pulled", `Container image "${image}" already present on machine`);
      return { ok: true, ref: present.ref };
    }
    if (policy === "Never") {
      const message = `Container image "${image}" is not present with pull policy of Never`;
      o.event("Warning", "ErrImageNeverPull", message);
      return { ok: false, reason: "ErrImageNeverPull", message };
    }
  }
  o.event("Normal", "Pulling", `Pulling image "${image}"`);
  const t0 = now();
  const creds = (await o.credentials?.()) ?? [];
  let lastError: Error | undefined;
  for (const auth of creds.length ? creds : [undefined]) {
    try {
      const ref = await runtime.pullImage(image, auth);
      const took = seconds(now() - t0);
      const size = (await runtime.imageStatus(image).catch(() => null))?.size ?? 0;
      o.event("Normal", "Pulled", `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${size} bytes.`);
      return { ok: true, ref };
    } catch (e) {
      lastError = e as Error;
    }
  }
  const message = `Failed to pull image "${image}": ${lastError?.message ?? "unknown error"}`;
  o.event("Warning", "Failed", message);
  return { ok: false, reason: "ErrImagePull", message };
}
