/**
 * @module What the admission plugins share: `admissionPlugin(def)` turns
 * admission steps into a plugin (registered as `Tokens.Admission` when the
 * server registers plugins), the resource refs they read, and the
 * small pod shapes they look at.
 */
import type { DependencyContainer } from "tsyringe";
import type { Client, InformerFactory, ResourceRef } from "../../core/client/types.ts";
import type { Admission, ConfigSchema, Plugin, PluginContext } from "../../core/plugin/types.ts";
import type { Tokens } from "../../core/plugin/tokens.ts";

export const PODS: ResourceRef = { group: "", version: "v1", resource: "pods" };
export const NAMESPACES: ResourceRef = { group: "", version: "v1", resource: "namespaces", namespaced: false };
export const SERVICE_ACCOUNTS: ResourceRef = { group: "", version: "v1", resource: "serviceaccounts" };
export const CONFIG_MAPS: ResourceRef = { group: "", version: "v1", resource: "configmaps" };
export const RESOURCE_QUOTAS: ResourceRef = { group: "", version: "v1", resource: "resourcequotas" };
export const LIMIT_RANGES: ResourceRef = { group: "", version: "v1", resource: "limitranges" };

export type Json = Record<string, unknown>;
export const asObj = (v: unknown): Json | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined);
export const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** What a step's factory gets at registration: the kernel's client and shared informers. */
export interface AdmissionDeps<C> {
  config: C;
  client: Client;
  informers: InformerFactory;
}

export interface AdmissionPluginDef<C> {
  name: string;
  description: string;
  configSchema?: ConfigSchema;
  /** Builds the plugin's steps; called once, when the server registers plugins. */
  steps(deps: AdmissionDeps<C>): Admission[];
  /** Optional background work (caches to warm), as a plugin's `start`. */
  start?(ctx: PluginContext<C>): Promise<void> | void;
}

/** A server-role plugin that registers admission steps. */
export function admissionPlugin<C = Record<string, unknown>>(def: AdmissionPluginDef<C>): Plugin<C> {
  return {
    manifest: {
      name: def.name,
      version: "0.1.0",
      description: def.description,
      provides: [`admission:${def.name}`],
      roles: ["server"],
      configSchema: def.configSchema ?? { type: "object", additionalProperties: false, properties: {} },
      // Admission steps are part of the API server (upstream: kube-apiserver's loopback client).
      identity: "kernel",
    },
    register(container: DependencyContainer, config: C, tokens: typeof Tokens) {
      const deps = { config, client: container.resolve(tokens.Client), informers: container.resolve(tokens.Informers) };
      for (const s of def.steps(deps)) container.register(tokens.Admission, { useValue: s });
    },
    ...(def.start ? { start: def.start } : {}),
  };
}

export interface Container {
  name: string;
  image?: string;
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: Json;
  ports?: { hostPort?: number; containerPort?: number }[];
  [k: string]: unknown;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: ({ name: string } & Json)[];
  serviceAccountName?: string;
  serviceAccount?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: Json;
  [k: string]: unknown;
}

/** Every container of a pod spec with its field path (`spec.containers[0]`). */
export function allContainers(spec: PodSpec, prefix = "spec"): { c: Container; path: string; kind: "containers" | "initContainers" | "ephemeralContainers" }[] {
  const out: { c: Container; path: string; kind: "containers" | "initContainers" | "ephemeralContainers" }[] = [];
  for (const kind of ["initContainers", "containers", "ephemeralContainers"] as const) {
    (spec[kind] ?? []).forEach((c, i) => out.push({ c, path: `${prefix}.${kind}[${i}]`, kind }));
  }
  return out;
}

/** Milliseconds to wait (tests shorten it); default waits for real. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
