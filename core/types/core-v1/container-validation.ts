/**
 * @module Validation of containers (regular, init and ephemeral) with the
 * messages of kubernetes `pkg/apis/core/validation` (the commonly hit subset:
 * names, images, ports, env, mounts, probes, resources, policies).
 */
import type { StatusCause } from "../../api/errors.ts";
import { isDNS1123Label } from "../../api/validation.ts";
import {
  child,
  fieldDuplicate,
  fieldForbidden,
  fieldInvalid,
  fieldNotFound,
  fieldNotSupported,
  fieldRequired,
  index,
  key,
  nonNegative,
} from "../field-errors.ts";
import { asArr, asNum, asObj, asStr, isNil, type JsonObject } from "../object-access.ts";
import { compareQuantity, formatQuantity, parseQuantity } from "../quantity.ts";
import {
  isValidPortName,
  isValidPortNum,
  validatePortNumOrName,
  validateProtocol,
  validateResourceList,
} from "./common-validation.ts";

export const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];
const TERMINATION_MESSAGE_POLICIES = ["File", "FallbackToLogsOnError"];
const PROBE_HANDLERS = ["exec", "httpGet", "tcpSocket", "grpc"];
const LIFECYCLE_HANDLERS = ["exec", "httpGet", "tcpSocket", "sleep"];
const URI_SCHEMES = ["HTTP", "HTTPS"];

export type ContainerKind = "container" | "init" | "ephemeral";

export interface ContainerContext {
  kind: ContainerKind;
  /** Volume names of the pod (mount targets). */
  volumes: Set<string>;
}

function validateName(c: JsonObject, path: string, seen: Set<string>): StatusCause[] {
  const name = asStr(c.name) ?? "";
  const fp = child(path, "name");
  if (name === "") return [fieldRequired(fp)];
  const causes = isDNS1123Label(name).map((m) => fieldInvalid(fp, name, m));
  if (seen.has(name)) causes.push(fieldDuplicate(fp, name));
  seen.add(name);
  return causes;
}

function validatePorts(ports: unknown, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const names = new Set<string>();
  asArr(ports).forEach((raw, i) => {
    const p = asObj(raw) ?? {};
    const ip = index(path, i);
    const cp = asNum(p.containerPort) ?? 0;
    if (cp === 0) causes.push(fieldRequired(child(ip, "containerPort")));
    else for (const m of isValidPortNum(cp)) causes.push(fieldInvalid(child(ip, "containerPort"), cp, m));
    const hp = asNum(p.hostPort) ?? 0;
    if (hp !== 0) for (const m of isValidPortNum(hp)) causes.push(fieldInvalid(child(ip, "hostPort"), hp, m));
    const name = asStr(p.name) ?? "";
    if (name !== "") {
      for (const m of isValidPortName(name)) causes.push(fieldInvalid(child(ip, "name"), name, m));
      if (names.has(name)) causes.push(fieldDuplicate(child(ip, "name"), name));
      names.add(name);
    }
    causes.push(...validateProtocol(p.protocol, child(ip, "protocol")));
  });
  return causes;
}

const ENV_NAME_MSG = "a valid environment variable name must consist only of printable ASCII characters other than '='";

function validateEnv(env: unknown, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  asArr(env).forEach((raw, i) => {
    const e = asObj(raw) ?? {};
    const ip = index(path, i);
    const name = asStr(e.name) ?? "";
    if (name === "") causes.push(fieldRequired(child(ip, "name")));
    else if (!/^[\x20-\x3c\x3e-\x7e]+$/.test(name)) causes.push(fieldInvalid(child(ip, "name"), name, ENV_NAME_MSG));
    const from = asObj(e.valueFrom);
    if (!from) return;
    const fp = child(ip, "valueFrom");
    const set = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"].filter((k) => !isNil(from[k]));
    if (set.length === 0) causes.push(fieldInvalid(fp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
    else if (set.length > 1) causes.push(fieldInvalid(fp, "", "may not have more than one field specified at a time"));
    if ((asStr(e.value) ?? "") !== "") causes.push(fieldInvalid(fp, "", "may not be specified when `value` is not empty"));
    const fieldRef = asObj(from.fieldRef);
    if (fieldRef && (asStr(fieldRef.fieldPath) ?? "") === "") causes.push(fieldRequired(child(fp, "fieldRef", "fieldPath")));
    for (const k of ["configMapKeyRef", "secretKeyRef"]) {
      const ref = asObj(from[k]);
      if (ref && (asStr(ref.key) ?? "") === "") causes.push(fieldRequired(child(fp, k, "key")));
    }
    const resRef = asObj(from.resourceFieldRef);
    if (resRef && (asStr(resRef.resource) ?? "") === "") causes.push(fieldRequired(child(fp, "resourceFieldRef", "resource")));
  });
  return causes;
}

function validateMounts(mounts: unknown, path: string, volumes: Set<string>): StatusCause[] {
  const causes: StatusCause[] = [];
  const paths = new Set<string>();
  asArr(mounts).forEach((raw, i) => {
    const m = asObj(raw) ?? {};
    const ip = index(path, i);
    const name = asStr(m.name) ?? "";
    if (name === "") causes.push(fieldRequired(child(ip, "name")));
    else if (!volumes.has(name)) causes.push(fieldNotFound(child(ip, "name"), name));
    const mp = asStr(m.mountPath) ?? "";
    if (mp === "") causes.push(fieldRequired(child(ip, "mountPath")));
    else if (paths.has(mp)) causes.push(fieldInvalid(child(ip, "mountPath"), mp, "must be unique"));
    paths.add(mp);
    const sub = asStr(m.subPath) ?? "";
    if (sub !== "" && (sub.startsWith("/") || sub.split("/").includes(".."))) {
      causes.push(fieldInvalid(child(ip, "subPath"), sub, sub.startsWith("/") ? "must be a relative path" : "must not contain '..'"));
    }
  });
  return causes;
}

function validateHandler(h: JsonObject, path: string, kinds: string[]): StatusCause[] {
  const causes: StatusCause[] = [];
  const present = kinds.filter((k) => !isNil(h[k]));
  if (present.length === 0) return [fieldRequired(path, "must specify a handler type")];
  for (const extra of present.slice(1)) causes.push(fieldForbidden(child(path, extra), "may not specify more than 1 handler type"));
  const get = asObj(h.httpGet);
  if (get) {
    causes.push(...validatePortNumOrName(get.port, child(path, "httpGet", "port")));
    const scheme = asStr(get.scheme) ?? "";
    if (scheme !== "" && !URI_SCHEMES.includes(scheme)) causes.push(fieldNotSupported(child(path, "httpGet", "scheme"), scheme, URI_SCHEMES));
  }
  const tcp = asObj(h.tcpSocket);
  if (tcp) causes.push(...validatePortNumOrName(tcp.port, child(path, "tcpSocket", "port")));
  const exec = asObj(h.exec);
  if (exec && asArr(exec.command).length === 0) causes.push(fieldRequired(child(path, "exec", "command")));
  const grpc = asObj(h.grpc);
  if (grpc) {
    const port = asNum(grpc.port) ?? 0;
    for (const m of isValidPortNum(port)) causes.push(fieldInvalid(child(path, "grpc", "port"), port, m));
  }
  const sleep = asObj(h.sleep);
  if (sleep) {
    const s = asNum(sleep.seconds) ?? 0;
    if (s <= 0) causes.push(fieldInvalid(child(path, "sleep", "seconds"), s, "must be greater than 0"));
  }
  return causes;
}

function validateProbe(probe: unknown, path: string, kind: "liveness" | "readiness" | "startup"): StatusCause[] {
  const p = asObj(probe);
  if (!p) return [];
  const causes = validateHandler(p, path, PROBE_HANDLERS);
  for (const k of ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"]) {
    causes.push(...nonNegative(child(path, k), p[k]));
  }
  const success = asNum(p.successThreshold);
  if (kind !== "readiness" && success !== undefined && success !== 1) {
    causes.push(fieldInvalid(child(path, "successThreshold"), success, "must be 1"));
  }
  const grace = asNum(p.terminationGracePeriodSeconds);
  if (grace !== undefined) {
    if (kind === "readiness") causes.push(fieldInvalid(child(path, "terminationGracePeriodSeconds"), grace, "must not be set for readinessProbes"));
    else if (grace <= 0) causes.push(fieldInvalid(child(path, "terminationGracePeriodSeconds"), grace, "must be greater than 0"));
  }
  return causes;
}

function validateResources(res: unknown, path: string): StatusCause[] {
  const r = asObj(res);
  if (!r) return [];
  const limitsPath = child(path, "limits");
  const requestsPath = child(path, "requests");
  const causes = [
    ...validateResourceList(r.limits, limitsPath, { checkNames: true }),
    ...validateResourceList(r.requests, requestsPath, { checkNames: true }),
  ];
  if (causes.length) return causes;
  const limits = asObj(r.limits) ?? {};
  const requests = asObj(r.requests) ?? {};
  for (const name of Object.keys(requests)) {
    const raw = requests[name];
    const limRaw = limits[name];
    if (limRaw === undefined) continue;
    const req = parseQuantity(raw as string | number);
    const lim = parseQuantity(limRaw as string | number);
    if ("error" in req || "error" in lim) continue;
    if (compareQuantity(req, lim) > 0) {
      causes.push(fieldInvalid(key(requestsPath, name), formatQuantity(req), `must be less than or equal to ${name} limit of ${formatQuantity(lim)}`));
    }
  }
  return causes;
}

/** One container: everything upstream's validateContainerCommon and friends check that matters in practice. */
export function validateContainer(c: JsonObject, path: string, ctx: ContainerContext, seenNames: Set<string>): StatusCause[] {
  const causes = validateName(c, path, seenNames);
  const image = asStr(c.image) ?? "";
  if (image === "") causes.push(fieldRequired(child(path, "image")));
  else if (image.trim() !== image) causes.push(fieldInvalid(child(path, "image"), image, "must not have leading or trailing whitespace"));
  const pull = asStr(c.imagePullPolicy) ?? "";
  if (pull === "") causes.push(fieldRequired(child(path, "imagePullPolicy")));
  else if (!PULL_POLICIES.includes(pull)) causes.push(fieldNotSupported(child(path, "imagePullPolicy"), pull, PULL_POLICIES));
  const tmp = asStr(c.terminationMessagePolicy) ?? "";
  if (tmp === "") causes.push(fieldRequired(child(path, "terminationMessagePolicy")));
  else if (!TERMINATION_MESSAGE_POLICIES.includes(tmp)) {
    causes.push(fieldNotSupported(child(path, "terminationMessagePolicy"), tmp, TERMINATION_MESSAGE_POLICIES));
  }
  causes.push(...validatePorts(c.ports, child(path, "ports")));
  causes.push(...validateEnv(c.env, child(path, "env")));
  causes.push(...validateMounts(c.volumeMounts, child(path, "volumeMounts"), ctx.volumes));
  causes.push(...validateResources(c.resources, child(path, "resources")));

  const restartPolicy = c.restartPolicy;
  const sidecar = ctx.kind === "init" && restartPolicy === "Always";
  if (!isNil(restartPolicy)) {
    if (ctx.kind === "init") {
      if (restartPolicy !== "Always") causes.push(fieldNotSupported(child(path, "restartPolicy"), restartPolicy, ["Always"]));
    } else {
      causes.push(fieldForbidden(child(path, "restartPolicy"), "may not be set for non-init containers"));
    }
  }
  const probes = [
    ["livenessProbe", "liveness"],
    ["readinessProbe", "readiness"],
    ["startupProbe", "startup"],
  ] as const;
  for (const [field, kind] of probes) {
    if (isNil(c[field])) continue;
    if (ctx.kind === "ephemeral" || (ctx.kind === "init" && !sidecar)) {
      const why = ctx.kind === "ephemeral" ? "cannot be set for an Ephemeral Container" : "may not be set for init containers without restartPolicy=Always";
      causes.push(fieldForbidden(child(path, field), why));
    } else {
      causes.push(...validateProbe(c[field], child(path, field), kind));
    }
  }
  const lifecycle = asObj(c.lifecycle);
  if (lifecycle) {
    if (ctx.kind === "ephemeral" || (ctx.kind === "init" && !sidecar)) {
      const why = ctx.kind === "ephemeral" ? "cannot be set for an Ephemeral Container" : "may not be set for init containers without restartPolicy=Always";
      causes.push(fieldForbidden(child(path, "lifecycle"), why));
    } else {
      for (const hook of ["postStart", "preStop"]) {
        const h = asObj(lifecycle[hook]);
        if (h) causes.push(...validateHandler(h, child(path, "lifecycle", hook), LIFECYCLE_HANDLERS));
      }
    }
  }
  return causes;
}
