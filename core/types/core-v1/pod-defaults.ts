/**
 * @module Defaulting of Pods and pod templates, following
 * kubernetes/kubernetes `pkg/apis/core/v1/defaults.go` and the generated
 * `SetObjectDefaults_Pod` walk (containers, ports, env, probes, volumes…).
 * Also fills what Go's encoder always writes (`resources: {}`, a template's
 * `metadata.creationTimestamp: null`) so stored objects read back exactly as
 * a real API server returns them. Every function is idempotent.
 */
import { asArr, asObj, ensureObj, isNil, objsAt, setDefault, type JsonObject } from "../object-access.ts";
import { formatQuantity, parseQuantity, roundUpToMilli, compareQuantity, type Quantity } from "../quantity.ts";
import { defaultPullPolicy } from "./image.ts";
import { VOLUME_SOURCE_FIELDS } from "./volume-schema.ts";

/** Octal 0644, the default mode of secret, configMap, downwardAPI and projected volumes. */
const DEFAULT_VOLUME_MODE = 420;

/** Rounded-up quantity text by input text (quantities repeat across objects). */
const ROUNDED = new Map<string | number, string | null>();

function defaultResourceList(list: unknown): void {
  const o = asObj(list);
  if (!o) return;
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (typeof v !== "string" && typeof v !== "number") continue;
    let out = ROUNDED.get(v);
    if (out === undefined) {
      const q = parseQuantity(v);
      out = "error" in q ? null : formatQuantity(roundUpToMilli(q));
      if (ROUNDED.size >= 4096) ROUNDED.clear();
      ROUNDED.set(v, out);
    }
    if (out !== null) o[k] = out;
  }
}

function defaultFieldRef(holder: JsonObject | undefined): void {
  const ref = asObj(holder?.fieldRef);
  if (ref) setDefault(ref, "apiVersion", "v1");
}

function defaultResourceFieldRef(holder: JsonObject | undefined): void {
  const ref = asObj(holder?.resourceFieldRef);
  if (ref && isNil(ref.divisor)) ref.divisor = "0";
}

function defaultHttpGet(handler: JsonObject | undefined): void {
  const get = asObj(handler?.httpGet);
  if (!get) return;
  setDefault(get, "path", "/");
  setDefault(get, "scheme", "HTTP");
}

function defaultProbe(probe: unknown): void {
  const p = asObj(probe);
  if (!p) return;
  for (const [k, v] of [
    ["timeoutSeconds", 1],
    ["periodSeconds", 10],
    ["successThreshold", 1],
    ["failureThreshold", 3],
  ] as const) {
    if (isNil(p[k]) || p[k] === 0) p[k] = v;
  }
  defaultHttpGet(p);
  const grpc = asObj(p.grpc);
  if (grpc && isNil(grpc.service)) grpc.service = "";
}

/** SetDefaults_Container plus its nested defaults. */
export function defaultContainer(c: JsonObject): void {
  if (isNil(c.imagePullPolicy) || c.imagePullPolicy === "") c.imagePullPolicy = defaultPullPolicy(c.image);
  setDefault(c, "terminationMessagePath", "/dev/termination-log");
  setDefault(c, "terminationMessagePolicy", "File");
  for (const port of objsAt(c, "ports")) setDefault(port, "protocol", "TCP");
  for (const env of objsAt(c, "env")) {
    const from = asObj(env.valueFrom);
    defaultFieldRef(from);
    defaultResourceFieldRef(from);
  }
  const resources = ensureObj(c, "resources");
  defaultResourceList(resources.limits);
  defaultResourceList(resources.requests);
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  const lifecycle = asObj(c.lifecycle);
  defaultHttpGet(asObj(lifecycle?.postStart));
  defaultHttpGet(asObj(lifecycle?.preStop));
}

function defaultDownwardItems(items: unknown): void {
  for (const item of asArr(items)) {
    const o = asObj(item);
    defaultFieldRef(o);
    defaultResourceFieldRef(o);
  }
}

/** SetDefaults_PersistentVolumeClaimSpec (volumeMode) and its resource lists. */
export function defaultPvcSpec(spec: unknown): void {
  const s = asObj(spec);
  if (!s) return;
  setDefault(s, "volumeMode", "Filesystem");
  const res = asObj(s.resources);
  defaultResourceList(res?.limits);
  defaultResourceList(res?.requests);
}

/** SetDefaults_Volume and the defaults of each volume source. */
export function defaultVolume(v: JsonObject): void {
  if (VOLUME_SOURCE_FIELDS.every((k) => isNil(v[k]))) v.emptyDir = {};
  const hostPath = asObj(v.hostPath);
  if (hostPath && isNil(hostPath.type)) hostPath.type = "";
  for (const key of ["secret", "configMap", "downwardAPI", "projected"]) {
    const src = asObj(v[key]);
    if (src && isNil(src.defaultMode)) src.defaultMode = DEFAULT_VOLUME_MODE;
  }
  defaultDownwardItems(asObj(v.downwardAPI)?.items);
  for (const source of objsAt(v, "projected", "sources")) {
    defaultDownwardItems(asObj(source.downwardAPI)?.items);
    const token = asObj(source.serviceAccountToken);
    if (token && isNil(token.expirationSeconds)) token.expirationSeconds = 3600;
  }
  const iscsi = asObj(v.iscsi);
  if (iscsi) setDefault(iscsi, "iscsiInterface", "default");
  const azureDisk = asObj(v.azureDisk);
  if (azureDisk) {
    setDefault(azureDisk, "cachingMode", "ReadWrite");
    setDefault(azureDisk, "kind", "Shared");
    setDefault(azureDisk, "fsType", "ext4");
    if (isNil(azureDisk.readOnly)) azureDisk.readOnly = false;
  }
  const scaleIO = asObj(v.scaleIO);
  if (scaleIO) {
    setDefault(scaleIO, "storageMode", "ThinProvisioned");
    setDefault(scaleIO, "fsType", "xfs");
  }
  const template = asObj(asObj(v.ephemeral)?.volumeClaimTemplate);
  if (template) defaultPvcSpec(template.spec);
}

/** SetDefaults_PodSpec plus the nested walk; shared by Pods and templates. */
export function defaultPodSpec(spec: JsonObject): void {
  setDefault(spec, "dnsPolicy", "ClusterFirst");
  setDefault(spec, "restartPolicy", "Always");
  if (isNil(spec.securityContext)) spec.securityContext = {};
  if (isNil(spec.terminationGracePeriodSeconds)) spec.terminationGracePeriodSeconds = 30;
  setDefault(spec, "schedulerName", "default-scheduler");
  for (const v of objsAt(spec, "volumes")) defaultVolume(v);
  for (const key of ["initContainers", "containers", "ephemeralContainers"]) {
    for (const c of objsAt(spec, key)) defaultContainer(c);
  }
  defaultResourceList(spec.overhead);
}

/**
 * Defaults of a PodTemplateSpec inside a workload: the pod spec defaults,
 * and `metadata.creationTimestamp: null`, which Go always encodes for a
 * template's zero timestamp.
 */
export function defaultPodTemplate(template: unknown): void {
  const t = asObj(template);
  if (!t) return;
  const meta = ensureObj(t, "metadata");
  if (meta.creationTimestamp === undefined) meta.creationTimestamp = null;
  defaultPodSpec(ensureObj(t, "spec"));
}

function hostNetworkPorts(containers: JsonObject[]): void {
  for (const c of containers) {
    for (const p of objsAt(c, "ports")) {
      if ((isNil(p.hostPort) || p.hostPort === 0) && typeof p.containerPort === "number") p.hostPort = p.containerPort;
    }
  }
}

/** SetDefaults_Pod (requests from limits, enableServiceLinks, host-network ports) then the spec walk. */
export function defaultPod(pod: JsonObject): void {
  const spec = ensureObj(pod, "spec");
  for (const key of ["containers", "initContainers"]) {
    for (const c of objsAt(spec, key)) {
      const res = asObj(c.resources);
      const limits = asObj(res?.limits);
      if (!res || !limits) continue;
      const requests = ensureObj(res, "requests");
      for (const k of Object.keys(limits)) if (requests[k] === undefined) requests[k] = limits[k];
    }
  }
  if (isNil(spec.enableServiceLinks)) spec.enableServiceLinks = true;
  if (spec.hostNetwork === true) {
    hostNetworkPorts(objsAt(spec, "containers"));
    hostNetworkPorts(objsAt(spec, "initContainers"));
  }
  defaultPodSpec(spec);
}

const QOS_RESOURCES = ["cpu", "memory"];

function sumInto(acc: Map<string, Quantity>, list: unknown, found?: Set<string>): void {
  const o = asObj(list);
  if (!o) return;
  for (const name of Object.keys(o)) {
    if (!QOS_RESOURCES.includes(name)) continue;
    const raw = o[name];
    if (typeof raw !== "string" && typeof raw !== "number") continue;
    const q = parseQuantity(raw);
    if ("error" in q || q.nanos <= 0n) continue;
    found?.add(name);
    const prev = acc.get(name);
    acc.set(name, prev ? { nanos: prev.nanos + q.nanos, format: prev.format } : q);
  }
}

/** The pod's QoS class (upstream ComputePodQOS over containers and init containers). */
export function podQOSClass(spec: unknown): "Guaranteed" | "Burstable" | "BestEffort" {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  const containers = [...objsAt(spec, "containers"), ...objsAt(spec, "initContainers")];
  for (const c of containers) {
    const res = asObj(c.resources);
    sumInto(requests, res?.requests);
    const found = new Set<string>();
    sumInto(limits, res?.limits, found);
    if (!found.has("memory") || !found.has("cpu")) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return "BestEffort";
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (!lim || compareQuantity(lim, req) !== 0) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? "Guaranteed" : "Burstable";
}
