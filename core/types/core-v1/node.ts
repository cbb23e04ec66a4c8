/**
 * @module The core/v1 Node kind: cluster-scoped, status written by the node
 * agent (kept on create), allocatable defaulted from capacity, taint
 * validation, `spec.unschedulable` selectable, and the `kubectl get nodes`
 * columns (STATUS from the Ready condition plus SchedulingDisabled, ROLES
 * from node-role labels).
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { isQualifiedName, isValidLabelValue } from "../../api/validation.ts";
import { OBJECT_META } from "../meta-schemas.ts";
import { canonicalizeQuantitiesOrThrow } from "../normalize.ts";
import { child, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired, index } from "../field-errors.ts";
import { asArr, asObj, asStr, cloneJson, isNil, objsAt, strAt, type JsonObject } from "../object-access.ts";
import { atomic, bool, int32, int64, keyed, kindSchema, obj, opaque, ref, resourceList, set, str, time } from "../schema-dsl.ts";
import { ageColumn, column, nameColumn } from "../table.ts";
import { CORE } from "./container-schema.ts";

const TAINT = obj(`${CORE}.Taint`, { effect: str(), key: str(), timeAdded: time(), value: str() }, { required: ["key", "effect"] });

const NODE_SPEC = obj(`${CORE}.NodeSpec`, {
  configSource: opaque(`${CORE}.NodeConfigSource`),
  externalID: str(),
  podCIDR: str(),
  podCIDRs: set(str(), { strategy: "merge" }),
  providerID: str(),
  taints: atomic(TAINT),
  unschedulable: bool(),
});

const NODE_CONDITION = obj(
  `${CORE}.NodeCondition`,
  { lastHeartbeatTime: time(), lastTransitionTime: time(), message: str(), reason: str(), status: str(), type: str() },
  { required: ["type", "status"] },
);

const NODE_SYSTEM_INFO = obj(`${CORE}.NodeSystemInfo`, {
  architecture: str(),
  bootID: str(),
  containerRuntimeVersion: str(),
  kernelVersion: str(),
  kubeProxyVersion: str(),
  kubeletVersion: str(),
  machineID: str(),
  operatingSystem: str(),
  osImage: str(),
  systemUUID: str(),
});

const NODE_STATUS = obj(`${CORE}.NodeStatus`, {
  addresses: keyed(obj(`${CORE}.NodeAddress`, { address: str(), type: str() }, { required: ["type", "address"] }), ["type"]),
  allocatable: resourceList(),
  capacity: resourceList(),
  conditions: keyed(NODE_CONDITION, ["type"]),
  config: opaque(`${CORE}.NodeConfigStatus`),
  daemonEndpoints: obj(`${CORE}.NodeDaemonEndpoints`, {
    kubeletEndpoint: obj(`${CORE}.DaemonEndpoint`, { Port: int32() }, { required: ["Port"] }),
  }),
  features: obj(`${CORE}.NodeFeatures`, { supplementalGroupsPolicy: bool() }),
  images: atomic(obj(`${CORE}.ContainerImage`, { names: atomic(str()), sizeBytes: int64() })),
  nodeInfo: ref(NODE_SYSTEM_INFO),
  phase: str(),
  runtimeHandlers: atomic(
    obj(`${CORE}.NodeRuntimeHandler`, {
      features: obj(`${CORE}.NodeRuntimeHandlerFeatures`, { recursiveReadOnlyMounts: bool(), userNamespaces: bool() }),
      name: str(),
    }),
  ),
  volumesAttached: atomic(obj(`${CORE}.AttachedVolume`, { devicePath: str(), name: str() }, { required: ["name", "devicePath"] })),
  volumesInUse: atomic(str()),
});

export const NODE_SCHEMA = kindSchema(`${CORE}.Node`, { group: "", version: "v1", kind: "Node" }, ref(OBJECT_META), {
  spec: ref(NODE_SPEC),
  status: ref(NODE_STATUS),
});

const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

export function validateNode(o: KubeObject, old?: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const seen = new Set<string>();
  asArr(asObj(o.spec)?.taints).forEach((raw, i) => {
    const t = asObj(raw) ?? {};
    const tp = index("spec.taints", i);
    const key = asStr(t.key) ?? "";
    if (key === "") causes.push(fieldRequired(child(tp, "key")));
    else for (const m of isQualifiedName(key)) causes.push(fieldInvalid(child(tp, "key"), key, m));
    const value = asStr(t.value) ?? "";
    for (const m of isValidLabelValue(value)) causes.push(fieldInvalid(child(tp, "value"), value, m));
    const effect = asStr(t.effect) ?? "";
    if (effect === "") causes.push(fieldRequired(child(tp, "effect")));
    else if (!TAINT_EFFECTS.includes(effect)) causes.push(fieldNotSupported(child(tp, "effect"), effect, TAINT_EFFECTS));
    const id = `${key}:${effect}`;
    if (seen.has(id)) causes.push(fieldInvalid(tp, raw, "taints must be unique by key and effect pair"));
    seen.add(id);
  });
  if (old) {
    const spec = asObj(o.spec) ?? {};
    const oldSpec = asObj(old.spec) ?? {};
    const oldCIDRs = asArr(oldSpec.podCIDRs);
    if (oldCIDRs.length > 0 && JSON.stringify(oldCIDRs) !== JSON.stringify(asArr(spec.podCIDRs))) {
      causes.push(fieldForbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid'));
    }
    const oldProvider = asStr(oldSpec.providerID) ?? "";
    if (oldProvider !== "" && oldProvider !== (asStr(spec.providerID) ?? "")) {
      causes.push(fieldForbidden("spec.providerID", 'node updates may not change providerID except from "" to valid'));
    }
  }
  return causes;
}

/** SetDefaults_NodeStatus: allocatable defaults to capacity. */
export function defaultNode(o: KubeObject): void {
  canonicalizeQuantitiesOrThrow(NODE_SCHEMA, o, "Node", "v1");
  const status = asObj(o.status);
  if (status && isNil(status.allocatable) && !isNil(status.capacity)) status.allocatable = cloneJson(status.capacity);
  const spec = asObj(o.spec);
  if (spec && typeof spec.podCIDR === "string" && spec.podCIDR !== "" && asArr(spec.podCIDRs).length === 0) spec.podCIDRs = [spec.podCIDR];
}

function nodeStatus(o: KubeObject): string {
  const ready = objsAt(o, "status", "conditions").find((c) => c.type === "Ready");
  const parts = [ready ? (ready.status === "True" ? "Ready" : "NotReady") : "Unknown"];
  if (asObj(o.spec)?.unschedulable === true) parts.push("SchedulingDisabled");
  return parts.join(",");
}

function nodeRoles(o: KubeObject): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
    if (k.startsWith("node-role.kubernetes.io/")) {
      const role = k.slice("node-role.kubernetes.io/".length);
      if (role !== "") roles.add(role);
    } else if (k === "kubernetes.io/role" && v !== "") roles.add(v);
  }
  return roles.size === 0 ? "<none>" : [...roles].sort().join(",");
}

function address(o: KubeObject, type: string): string {
  return asStr(objsAt(o, "status", "addresses").find((a) => a.type === type)?.address) ?? "<none>";
}

function info(field: string) {
  return (o: KubeObject) => strAt(o, "status", "nodeInfo", field) || "<unknown>";
}

export const nodeType: ResourceTypeInit = {
  group: "",
  version: "v1",
  kind: "Node",
  plural: "nodes",
  singular: "node",
  shortNames: ["no"],
  namespaced: false,
  tracksGeneration: false,
  schema: NODE_SCHEMA,
  subresources: { status: true },
  selectableFields: { "spec.unschedulable": (o) => String(asObj(o.spec)?.unschedulable === true) },
  columns: [
    nameColumn(),
    column("Status", "string", "The status of the node", nodeStatus),
    column("Roles", "string", "The roles of the node", nodeRoles),
    ageColumn(),
    column("Version", "string", "Kubelet Version reported by the node.", (o) => strAt(o, "status", "nodeInfo", "kubeletVersion")),
    column("Internal-IP", "string", "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses", (o) => address(o, "InternalIP"), 1),
    column("External-IP", "string", "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses", (o) => address(o, "ExternalIP"), 1),
    column("OS-Image", "string", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", info("osImage"), 1),
    column("Kernel-Version", "string", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", info("kernelVersion"), 1),
    column("Container-Runtime", "string", "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", info("containerRuntimeVersion"), 1),
  ],
  strategy: {
    defaults: defaultNode,
    validate: validateNode,
    prepareForCreate(o) {
      const spec = asObj(o.spec);
      if (spec) delete spec.configSource;
      const status = asObj(o.status) as JsonObject | undefined;
      if (status) delete status.config;
    },
  },
};
