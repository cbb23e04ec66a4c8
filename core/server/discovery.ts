/**
 * @module Discovery, generated from the type registry: aggregated
 * (apidiscovery.k8s.io/v2 and v2beta1, chosen by Accept) and legacy
 * (`/api`, `/apis`, `/api/v1`, `/apis/<g>/<v>`). Documents are rebuilt only
 * when the registry changes (a CRD is added or removed).
 */
import type { ResourceType, TypeRegistry } from "../api/registry.ts";

/** A subresource a handler serves, for discovery. */
export interface SubresourceInfo {
  /** e.g. `status`, `scale`, `binding`, `eviction`, `log`. */
  name: string;
  /** The kind it takes or returns: `{group, version, kind}`; omitted means the parent kind. */
  kind?: { group: string; version: string; kind: string };
  verbs: string[];
  /** Which types it applies to. */
  appliesTo(type: ResourceType): boolean;
}

const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/** Groups in the order kube-apiserver lists them (core first, then by registration). */
function groupsOf(registry: TypeRegistry): Map<string, Map<string, ResourceType[]>> {
  const groups = new Map<string, Map<string, ResourceType[]>>();
  for (const t of registry.all()) {
    let versions = groups.get(t.group);
    if (!versions) groups.set(t.group, (versions = new Map()));
    let list = versions.get(t.version);
    if (!list) versions.set(t.version, (list = []));
    list.push(t);
  }
  return groups;
}

/** Versions sorted the way Kubernetes prefers them: GA over beta over alpha, higher first. */
export function sortVersions(vs: string[]): string[] {
  const rank = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0];
    const stage = m[2] === "alpha" ? 1 : m[2] === "beta" ? 2 : 3;
    return [stage, Number(m[1]), Number(m[3] ?? 0)];
  };
  return [...vs].sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    return rb[0] - ra[0] || rb[1] - ra[1] || rb[2] - ra[2] || a.localeCompare(b);
  });
}

export class Discovery {
  #cache = new Map<string, string>();

  constructor(
    private readonly registry: TypeRegistry,
    private readonly subresources: () => SubresourceInfo[],
  ) {
    registry.onChange(() => this.#cache.clear());
  }

  /** Clears cached documents (call when subresource handlers change). */
  invalidate(): void {
    this.#cache.clear();
  }

  #cached(key: string, build: () => unknown): string {
    let v = this.#cache.get(key);
    if (v === undefined) this.#cache.set(key, (v = JSON.stringify(build())));
    return v;
  }

  #subs(t: ResourceType): SubresourceInfo[] {
    return this.subresources().filter((s) => s.appliesTo(t));
  }

  /** Aggregated discovery for `/api` (core only) or `/apis` (all named groups). */
  aggregated(which: "api" | "apis", version: "v2" | "v2beta1"): string {
    return this.#cached(`agg:${which}:${version}`, () => {
      const items = [];
      for (const [group, versions] of groupsOf(this.registry)) {
        if ((group === "") !== (which === "api")) continue;
        items.push({
          metadata: { name: group, creationTimestamp: null },
          versions: sortVersions([...versions.keys()]).map((v) => ({
            version: v,
            resources: versions.get(v)!.map((t) => ({
              resource: t.plural,
              responseKind: { group: t.group, version: t.version, kind: t.kind },
              scope: t.namespaced ? "Namespaced" : "Cluster",
              singularResource: t.singular,
              verbs: VERBS,
              ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
              ...(t.categories.length ? { categories: t.categories } : {}),
              ...(this.#subs(t).length
                ? {
                    subresources: this.#subs(t).map((s) => ({
                      subresource: s.name,
                      responseKind: s.kind ?? { group: t.group, version: t.version, kind: t.kind },
                      verbs: s.verbs,
                    })),
                  }
                : {}),
            })),
            freshness: "Current",
          })),
        });
      }
      return { kind: "APIGroupDiscoveryList", apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
    });
  }

  legacyApi(): string {
    return this.#cached("api", () => ({
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "" }],
    }));
  }

  #groupInfo(group: string, versions: Map<string, ResourceType[]>) {
    const vs = sortVersions([...versions.keys()]).map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
    return { name: group, versions: vs, preferredVersion: vs[0] };
  }

  legacyApis(): string {
    return this.#cached("apis", () => ({
      kind: "APIGroupList",
      apiVersion: "v1",
      groups: [...groupsOf(this.registry)].filter(([g]) => g !== "").map(([g, vs]) => this.#groupInfo(g, vs)),
    }));
  }

  /** `/apis/<group>`, or undefined when the group is not served. */
  legacyGroup(group: string): string | undefined {
    const versions = groupsOf(this.registry).get(group);
    if (!versions || group === "") return undefined;
    return this.#cached(`group:${group}`, () => ({ kind: "APIGroup", apiVersion: "v1", ...this.#groupInfo(group, versions) }));
  }

  /** `/api/v1` or `/apis/<group>/<version>`, or undefined when not served. */
  resourceList(group: string, version: string): string | undefined {
    const types = groupsOf(this.registry).get(group)?.get(version);
    if (!types) return undefined;
    return this.#cached(`rl:${group}/${version}`, () => {
      const resources: object[] = [];
      for (const t of types) {
        resources.push({
          name: t.plural,
          singularName: t.singular,
          namespaced: t.namespaced,
          kind: t.kind,
          verbs: VERBS,
          ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
          ...(t.categories.length ? { categories: t.categories } : {}),
          storageVersionHash: "",
        });
        for (const s of this.#subs(t)) {
          resources.push({
            name: `${t.plural}/${s.name}`,
            singularName: "",
            namespaced: t.namespaced,
            ...(s.kind ? { group: s.kind.group, version: s.kind.version, kind: s.kind.kind } : { kind: t.kind }),
            verbs: s.verbs,
          });
        }
      }
      return { kind: "APIResourceList", apiVersion: "v1", groupVersion: group ? `${group}/${version}` : version, resources };
    });
  }
}
