/**
 * @module Validation of PodSpec (shared by Pods and templates), pod templates
 * and pod updates, after kubernetes `pkg/apis/core/validation` ValidatePodSpec,
 * ValidatePodTemplateSpec and ValidatePodUpdate. Covers the checks users hit;
 * see core/types/README.md for what is not checked.
 */
import type { StatusCause } from "../../api/errors.ts";
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, validateAnnotations, validateLabels } from "../../api/validation.ts";
import {
  child,
  fieldDuplicate,
  fieldForbidden,
  fieldInvalid,
  fieldNotSupported,
  fieldRequired,
  index,
  nonNegative,
} from "../field-errors.ts";
import { asArr, asNum, asObj, asStr, cloneJson, isNil, jsonEqual, objsAt, type JsonObject } from "../object-access.ts";
import { validateSubdomainRef } from "./common-validation.ts";
import { validateContainer, type ContainerKind } from "./container-validation.ts";
import { VOLUME_SOURCE_FIELDS } from "./volume-schema.ts";

export const RESTART_POLICIES = ["Always", "OnFailure", "Never"];
const DNS_POLICIES = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"];
const TOLERATION_OPERATORS = ["Equal", "Exists"];
const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
/** Each volume source's position in VOLUME_SOURCE_FIELDS (the order its errors are reported in). */
const VOLUME_SOURCE_RANK = new Map<string, number>(VOLUME_SOURCE_FIELDS.map((f, i) => [f, i]));
const REQUIRED_SOURCE_FIELDS: [string, string][] = [
  ["hostPath", "path"],
  ["persistentVolumeClaim", "claimName"],
  ["nfs", "server"],
  ["nfs", "path"],
  ["csi", "driver"],
];
const HOST_PATH_TYPES = ["", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"];
const MODE_SOURCES = ["secret", "configMap", "downwardAPI", "projected"];

/** The volume sources `v` sets, in VOLUME_SOURCE_FIELDS order (a volume has a handful of keys; the list has dozens). */
function volumeSources(v: JsonObject): string[] {
  const out: string[] = [];
  for (const k of Object.keys(v)) if (VOLUME_SOURCE_RANK.has(k) && !isNil(v[k])) out.push(k);
  if (out.length > 1) out.sort((a, b) => (VOLUME_SOURCE_RANK.get(a) as number) - (VOLUME_SOURCE_RANK.get(b) as number));
  return out;
}

function validateVolumes(spec: JsonObject, path: string): { causes: StatusCause[]; names: Set<string> } {
  const causes: StatusCause[] = [];
  const names = new Set<string>();
  asArr(spec.volumes).forEach((raw, i) => {
    const v = asObj(raw) ?? {};
    const vp = index(path, i);
    const name = asStr(v.name) ?? "";
    if (name === "") causes.push(fieldRequired(child(vp, "name")));
    else {
      for (const m of isDNS1123Label(name)) causes.push(fieldInvalid(child(vp, "name"), name, m));
      if (names.has(name)) causes.push(fieldDuplicate(child(vp, "name"), name));
      names.add(name);
    }
    const sources = volumeSources(v);
    if (sources.length === 0) causes.push(fieldRequired(vp, "must specify a volume type"));
    for (const extra of sources.slice(1)) causes.push(fieldForbidden(child(vp, extra), "may not specify more than 1 volume type"));
    for (const [src, field] of REQUIRED_SOURCE_FIELDS) {
      const s = asObj(v[src]);
      if (s && (asStr(s[field]) ?? "") === "") causes.push(fieldRequired(child(vp, src, field)));
    }
    const hostPath = asObj(v.hostPath);
    const hpType = asStr(hostPath?.type);
    if (hpType !== undefined && !HOST_PATH_TYPES.includes(hpType)) {
      causes.push(fieldNotSupported(child(vp, "hostPath", "type"), hpType, HOST_PATH_TYPES));
    }
    for (const src of MODE_SOURCES) {
      const mode = asNum(asObj(v[src])?.defaultMode);
      if (mode !== undefined && (mode < 0 || mode > 0o777)) {
        causes.push(fieldInvalid(child(vp, src, "defaultMode"), mode, "must be a number between 0 and 0777 (octal), both inclusive"));
      }
    }
  });
  return { causes, names };
}

function validateTolerations(tols: unknown, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  asArr(tols).forEach((raw, i) => {
    const t = asObj(raw) ?? {};
    const tp = index(path, i);
    const k = asStr(t.key) ?? "";
    if (k !== "") for (const m of isQualifiedName(k)) causes.push(fieldInvalid(child(tp, "key"), k, m));
    const op = asStr(t.operator) ?? "";
    if (k === "" && op !== "Exists") {
      causes.push(fieldInvalid(child(tp, "operator"), op, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
    }
    if (op === "Exists" && (asStr(t.value) ?? "") !== "") {
      causes.push(fieldInvalid(child(tp, "operator"), t.value, "value must be empty when `operator` is 'Exists'"));
    }
    if (op !== "" && !TOLERATION_OPERATORS.includes(op)) causes.push(fieldNotSupported(child(tp, "operator"), op, TOLERATION_OPERATORS));
    const effect = asStr(t.effect) ?? "";
    if (!isNil(t.tolerationSeconds) && effect !== "NoExecute") {
      causes.push(fieldInvalid(child(tp, "effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (effect !== "" && !TAINT_EFFECTS.includes(effect)) causes.push(fieldNotSupported(child(tp, "effect"), effect, TAINT_EFFECTS));
  });
  return causes;
}

function validateContainerList(
  list: unknown,
  path: string,
  kind: ContainerKind,
  volumes: Set<string>,
  seen: Set<string>,
): StatusCause[] {
  const causes: StatusCause[] = [];
  asArr(list).forEach((raw, i) => {
    const c = asObj(raw);
    if (!c) {
      causes.push(fieldInvalid(index(path, i), raw, "must be an object"));
      return;
    }
    causes.push(...validateContainer(c, index(path, i), { kind, volumes }, seen));
  });
  return causes;
}

export interface PodSpecValidationOptions {
  /** Templates forbid ephemeral containers. */
  template?: boolean;
}

/** ValidatePodSpec (the common subset). `path` is `spec` for pods, `spec.template.spec` for workloads. */
export function validatePodSpec(specRaw: unknown, path: string, opts: PodSpecValidationOptions = {}): StatusCause[] {
  const spec = asObj(specRaw);
  if (!spec) return [fieldRequired(path)];
  const vol = validateVolumes(spec, child(path, "volumes"));
  const causes = [...vol.causes];
  const seen = new Set<string>();
  const containers = asArr(spec.containers);
  if (containers.length === 0) causes.push(fieldRequired(child(path, "containers")));
  causes.push(...validateContainerList(spec.initContainers, child(path, "initContainers"), "init", vol.names, seen));
  causes.push(...validateContainerList(containers, child(path, "containers"), "container", vol.names, seen));
  if (opts.template && asArr(spec.ephemeralContainers).length > 0) {
    causes.push(fieldForbidden(child(path, "ephemeralContainers"), "ephemeral containers not allowed in pod template"));
  } else {
    causes.push(...validateContainerList(spec.ephemeralContainers, child(path, "ephemeralContainers"), "ephemeral", vol.names, seen));
  }

  const restart = asStr(spec.restartPolicy) ?? "";
  if (restart === "") causes.push(fieldRequired(child(path, "restartPolicy")));
  else if (!RESTART_POLICIES.includes(restart)) causes.push(fieldNotSupported(child(path, "restartPolicy"), restart, RESTART_POLICIES));

  const dns = asStr(spec.dnsPolicy) ?? "";
  if (dns === "") causes.push(fieldRequired(child(path, "dnsPolicy")));
  else if (!DNS_POLICIES.includes(dns)) causes.push(fieldNotSupported(child(path, "dnsPolicy"), dns, DNS_POLICIES));
  else if (dns === "None" && isNil(spec.dnsConfig)) {
    causes.push(fieldRequired(child(path, "dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"));
  }

  causes.push(...validateLabels(spec.nodeSelector, child(path, "nodeSelector")));
  causes.push(...validateSubdomainRef(spec.serviceAccountName, child(path, "serviceAccountName")));
  causes.push(...validateSubdomainRef(spec.priorityClassName, child(path, "priorityClassName")));
  const nodeName = asStr(spec.nodeName) ?? "";
  if (nodeName !== "") for (const m of isDNS1123Subdomain(nodeName)) causes.push(fieldInvalid(child(path, "nodeName"), nodeName, m));
  for (const f of ["hostname", "subdomain"]) {
    const v = asStr(spec[f]) ?? "";
    if (v !== "") for (const m of isDNS1123Label(v)) causes.push(fieldInvalid(child(path, f), v, m));
  }
  const ads = asNum(spec.activeDeadlineSeconds);
  if (ads !== undefined && (ads < 1 || ads > 2147483647)) {
    causes.push(fieldInvalid(child(path, "activeDeadlineSeconds"), ads, "must be between 1 and 2147483647, inclusive"));
  }
  causes.push(...validateTolerations(spec.tolerations, child(path, "tolerations")));
  const sc = asObj(spec.securityContext);
  if (sc) {
    for (const f of ["runAsUser", "runAsGroup", "fsGroup"]) causes.push(...nonNegative(child(path, "securityContext", f), sc[f]));
  }
  if (spec.hostNetwork === true) {
    const hostPorts = new Set<string>();
    for (const key of ["initContainers", "containers"]) {
      objsAt(spec, key).forEach((c, ci) => {
        objsAt(c, "ports").forEach((p, pi) => {
          const hp = asNum(p.hostPort) ?? 0;
          const cp = asNum(p.containerPort) ?? 0;
          if (hp !== 0 && hp !== cp) {
            causes.push(fieldInvalid(child(index(child(index(child(path, key), ci), "ports"), pi), "containerPort"), cp, "must match `hostPort` when `hostNetwork` is true"));
          }
          const id = `${hp}/${asStr(p.protocol) ?? "TCP"}`;
          if (hp !== 0 && hostPorts.has(id)) causes.push(fieldDuplicate(child(index(child(index(child(path, key), ci), "ports"), pi), "hostPort"), id));
          hostPorts.add(id);
        });
      });
    }
  }
  return causes;
}

/** ValidatePodTemplateSpec: template labels and annotations, then the spec. */
export function validatePodTemplate(templateRaw: unknown, path: string): StatusCause[] {
  const t = asObj(templateRaw);
  if (!t) return [fieldRequired(path)];
  const meta = asObj(t.metadata) ?? {};
  return [
    ...validateLabels(meta.labels, child(path, "metadata", "labels")),
    ...validateAnnotations(meta.annotations, child(path, "metadata", "annotations")),
    ...validatePodSpec(t.spec, child(path, "spec"), { template: true }),
  ];
}

const POD_UPDATE_MESSAGE =
  "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/** The part of a pod spec that must not change on update (mutable fields masked). */
function immutableView(spec: unknown): unknown {
  const s = cloneJson(asObj(spec) ?? {});
  for (const key of ["containers", "initContainers"]) for (const c of objsAt(s, key)) delete c.image;
  delete s.activeDeadlineSeconds;
  delete s.tolerations;
  delete s.terminationGracePeriodSeconds;
  delete s.schedulingGates;
  delete s.ephemeralContainers;
  return s;
}

/**
 * ValidatePodUpdate's spec rules (simplified: no diff in the message). Setting
 * `spec.nodeName` on an unbound pod is let through: the `binding` subresource
 * runs through the same update path here, unlike upstream's BindingREST.
 */
export function validatePodSpecUpdate(newSpec: unknown, oldSpec: unknown): StatusCause[] {
  const causes: StatusCause[] = [];
  const newView = immutableView(newSpec) as JsonObject;
  const oldView = immutableView(oldSpec) as JsonObject;
  if ((asStr(oldView.nodeName) ?? "") === "") {
    delete newView.nodeName;
    delete oldView.nodeName;
  }
  if (!jsonEqual(newView, oldView)) causes.push(fieldForbidden("spec", POD_UPDATE_MESSAGE));
  const oldAds = asNum(asObj(oldSpec)?.activeDeadlineSeconds);
  const newAds = asNum(asObj(newSpec)?.activeDeadlineSeconds);
  if (oldAds !== undefined && (newAds === undefined || newAds > oldAds)) {
    causes.push(fieldInvalid("spec.activeDeadlineSeconds", newAds ?? null, "must be less than or equal to previous value"));
  }
  const oldTols = asArr(asObj(oldSpec)?.tolerations);
  const newTols = asArr(asObj(newSpec)?.tolerations);
  for (const t of oldTols) {
    if (!newTols.some((n) => jsonEqual(n, t))) {
      causes.push(fieldForbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"));
      break;
    }
  }
  const oldGates = asArr(asObj(oldSpec)?.schedulingGates);
  const newGates = asArr(asObj(newSpec)?.schedulingGates);
  if (newGates.some((g) => !oldGates.some((o) => jsonEqual(o, g)))) {
    causes.push(fieldForbidden("spec.schedulingGates", "only deletion is allowed, but found new scheduling gate"));
  }
  return causes;
}
