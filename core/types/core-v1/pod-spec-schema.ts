/**
 * @module core/v1 PodSpec, PodTemplateSpec and PodStatus schemas (v1.32 field
 * set), shared by Pods and every workload template.
 */
import { LABEL_SELECTOR, OBJECT_META } from "../meta-schemas.ts";
import { atomic, bool, int32, int64, keyed, obj, ref, resourceList, str, strMap, time, mapList } from "../schema-dsl.ts";
import {
  APP_ARMOR_PROFILE,
  CONTAINER,
  CORE,
  EPHEMERAL_CONTAINER,
  LOCAL_OBJECT_REFERENCE,
  RESOURCE_REQUIREMENTS,
  SE_LINUX_OPTIONS,
  SECCOMP_PROFILE,
  WINDOWS_SECURITY_CONTEXT_OPTIONS,
} from "./container-schema.ts";
import { VOLUMES } from "./volume-schema.ts";

export const TOLERATION = obj(`${CORE}.Toleration`, {
  effect: str(),
  key: str(),
  operator: str(),
  tolerationSeconds: int64(),
  value: str(),
});

const NODE_SELECTOR_REQUIREMENT = obj(
  `${CORE}.NodeSelectorRequirement`,
  { key: str(), operator: str(), values: atomic(str()) },
  { required: ["key", "operator"] },
);

export const NODE_SELECTOR_TERM = obj(
  `${CORE}.NodeSelectorTerm`,
  { matchExpressions: atomic(NODE_SELECTOR_REQUIREMENT), matchFields: atomic(NODE_SELECTOR_REQUIREMENT) },
  { mapType: "atomic" },
);

export const NODE_SELECTOR = obj(
  `${CORE}.NodeSelector`,
  { nodeSelectorTerms: atomic(NODE_SELECTOR_TERM) },
  { required: ["nodeSelectorTerms"], mapType: "atomic" },
);

const PREFERRED_SCHEDULING_TERM = obj(
  `${CORE}.PreferredSchedulingTerm`,
  { preference: ref(NODE_SELECTOR_TERM), weight: int32() },
  { required: ["weight", "preference"] },
);

const POD_AFFINITY_TERM = obj(
  `${CORE}.PodAffinityTerm`,
  {
    labelSelector: ref(LABEL_SELECTOR),
    matchLabelKeys: atomic(str()),
    mismatchLabelKeys: atomic(str()),
    namespaceSelector: ref(LABEL_SELECTOR),
    namespaces: atomic(str()),
    topologyKey: str(),
  },
  { required: ["topologyKey"] },
);

const WEIGHTED_POD_AFFINITY_TERM = obj(
  `${CORE}.WeightedPodAffinityTerm`,
  { podAffinityTerm: ref(POD_AFFINITY_TERM), weight: int32() },
  { required: ["weight", "podAffinityTerm"] },
);

function podAffinity(name: string) {
  return obj(`${CORE}.${name}`, {
    preferredDuringSchedulingIgnoredDuringExecution: atomic(WEIGHTED_POD_AFFINITY_TERM),
    requiredDuringSchedulingIgnoredDuringExecution: atomic(POD_AFFINITY_TERM),
  });
}

export const AFFINITY = obj(`${CORE}.Affinity`, {
  nodeAffinity: obj(`${CORE}.NodeAffinity`, {
    preferredDuringSchedulingIgnoredDuringExecution: atomic(PREFERRED_SCHEDULING_TERM),
    requiredDuringSchedulingIgnoredDuringExecution: ref(NODE_SELECTOR),
  }),
  podAffinity: podAffinity("PodAffinity"),
  podAntiAffinity: podAffinity("PodAntiAffinity"),
});

const POD_SECURITY_CONTEXT = obj(`${CORE}.PodSecurityContext`, {
  appArmorProfile: ref(APP_ARMOR_PROFILE),
  fsGroup: int64(),
  fsGroupChangePolicy: str(),
  runAsGroup: int64(),
  runAsNonRoot: bool(),
  runAsUser: int64(),
  seLinuxChangePolicy: str(),
  seLinuxOptions: ref(SE_LINUX_OPTIONS),
  seccompProfile: ref(SECCOMP_PROFILE),
  supplementalGroups: atomic(int64()),
  supplementalGroupsPolicy: str(),
  sysctls: atomic(obj(`${CORE}.Sysctl`, { name: str(), value: str() }, { required: ["name", "value"] })),
  windowsOptions: ref(WINDOWS_SECURITY_CONTEXT_OPTIONS),
});

const TOPOLOGY_SPREAD_CONSTRAINT = obj(
  `${CORE}.TopologySpreadConstraint`,
  {
    labelSelector: ref(LABEL_SELECTOR),
    matchLabelKeys: atomic(str()),
    maxSkew: int32(),
    minDomains: int32(),
    nodeAffinityPolicy: str(),
    nodeTaintsPolicy: str(),
    topologyKey: str(),
    whenUnsatisfiable: str(),
  },
  { required: ["maxSkew", "topologyKey", "whenUnsatisfiable"] },
);

export const POD_SPEC = obj(
  `${CORE}.PodSpec`,
  {
    activeDeadlineSeconds: int64(),
    affinity: ref(AFFINITY),
    automountServiceAccountToken: bool(),
    containers: keyed(CONTAINER, ["name"]),
    dnsConfig: obj(`${CORE}.PodDNSConfig`, {
      nameservers: atomic(str()),
      options: atomic(obj(`${CORE}.PodDNSConfigOption`, { name: str(), value: str() })),
      searches: atomic(str()),
    }),
    dnsPolicy: str(),
    enableServiceLinks: bool(),
    ephemeralContainers: keyed(EPHEMERAL_CONTAINER, ["name"]),
    hostAliases: keyed(obj(`${CORE}.HostAlias`, { hostnames: atomic(str()), ip: str() }, { required: ["ip"] }), ["ip"]),
    hostIPC: bool(),
    hostNetwork: bool(),
    hostPID: bool(),
    hostUsers: bool(),
    hostname: str(),
    imagePullSecrets: keyed(LOCAL_OBJECT_REFERENCE, ["name"]),
    initContainers: keyed(CONTAINER, ["name"]),
    nodeName: str(),
    nodeSelector: strMap({ mapType: "atomic" }),
    os: obj(`${CORE}.PodOS`, { name: str() }, { required: ["name"] }),
    overhead: resourceList(),
    preemptionPolicy: str(),
    priority: int32(),
    priorityClassName: str(),
    readinessGates: atomic(obj(`${CORE}.PodReadinessGate`, { conditionType: str() }, { required: ["conditionType"] })),
    resourceClaims: keyed(
      obj(
        `${CORE}.PodResourceClaim`,
        { name: str(), resourceClaimName: str(), resourceClaimTemplateName: str() },
        { required: ["name"] },
      ),
      ["name"],
      { strategy: "merge,retainKeys" },
    ),
    resources: ref(RESOURCE_REQUIREMENTS),
    restartPolicy: str(),
    runtimeClassName: str(),
    schedulerName: str(),
    schedulingGates: keyed(obj(`${CORE}.PodSchedulingGate`, { name: str() }, { required: ["name"] }), ["name"]),
    securityContext: ref(POD_SECURITY_CONTEXT),
    serviceAccount: str(),
    serviceAccountName: str(),
    setHostnameAsFQDN: bool(),
    shareProcessNamespace: bool(),
    subdomain: str(),
    terminationGracePeriodSeconds: int64(),
    tolerations: atomic(TOLERATION),
    topologySpreadConstraints: keyed(TOPOLOGY_SPREAD_CONSTRAINT, ["topologyKey", "whenUnsatisfiable"]),
    volumes: VOLUMES,
  },
  { required: ["containers"] },
);

export const POD_TEMPLATE_SPEC = obj(`${CORE}.PodTemplateSpec`, { metadata: ref(OBJECT_META), spec: ref(POD_SPEC) });

const CONTAINER_STATE = obj(`${CORE}.ContainerState`, {
  running: obj(`${CORE}.ContainerStateRunning`, { startedAt: time() }),
  terminated: obj(
    `${CORE}.ContainerStateTerminated`,
    {
      containerID: str(),
      exitCode: int32(),
      finishedAt: time(),
      message: str(),
      reason: str(),
      signal: int32(),
      startedAt: time(),
    },
    { required: ["exitCode"] },
  ),
  waiting: obj(`${CORE}.ContainerStateWaiting`, { message: str(), reason: str() }),
});

const RESOURCE_HEALTH = obj(`${CORE}.ResourceHealth`, { health: str(), resourceID: str() }, { required: ["resourceID"] });

export const CONTAINER_STATUS = obj(
  `${CORE}.ContainerStatus`,
  {
    allocatedResources: resourceList(),
    allocatedResourcesStatus: keyed(
      obj(`${CORE}.ResourceStatus`, { name: str(), resources: mapList(RESOURCE_HEALTH, ["resourceID"]) }, { required: ["name"] }),
      ["name"],
    ),
    containerID: str(),
    image: str(),
    imageID: str(),
    lastState: ref(CONTAINER_STATE),
    name: str(),
    ready: bool(),
    resources: ref(RESOURCE_REQUIREMENTS),
    restartCount: int32(),
    started: bool(),
    state: ref(CONTAINER_STATE),
    user: obj(`${CORE}.ContainerUser`, {
      linux: obj(
        `${CORE}.LinuxContainerUser`,
        { gid: int64(), supplementalGroups: atomic(int64()), uid: int64() },
        { required: ["uid", "gid"] },
      ),
    }),
    volumeMounts: keyed(
      obj(
        `${CORE}.VolumeMountStatus`,
        { mountPath: str(), name: str(), readOnly: bool(), recursiveReadOnly: str() },
        { required: ["name", "mountPath"] },
      ),
      ["mountPath"],
    ),
  },
  { required: ["name", "ready", "restartCount", "image", "imageID"] },
);

const POD_CONDITION = obj(
  `${CORE}.PodCondition`,
  { lastProbeTime: time(), lastTransitionTime: time(), message: str(), reason: str(), status: str(), type: str() },
  { required: ["type", "status"] },
);

const POD_IP = obj(`${CORE}.PodIP`, { ip: str() }, { required: ["ip"] });
const HOST_IP = obj(`${CORE}.HostIP`, { ip: str() }, { required: ["ip"] });

export const POD_STATUS = obj(`${CORE}.PodStatus`, {
  conditions: keyed(POD_CONDITION, ["type"]),
  containerStatuses: atomic(CONTAINER_STATUS),
  ephemeralContainerStatuses: atomic(CONTAINER_STATUS),
  hostIP: str(),
  hostIPs: { ...atomic(HOST_IP), "x-kubernetes-patch-merge-key": "ip", "x-kubernetes-patch-strategy": "merge" },
  initContainerStatuses: atomic(CONTAINER_STATUS),
  message: str(),
  nominatedNodeName: str(),
  phase: str(),
  podIP: str(),
  podIPs: keyed(POD_IP, ["ip"]),
  qosClass: str(),
  reason: str(),
  resize: str(),
  resourceClaimStatuses: keyed(
    obj(`${CORE}.PodResourceClaimStatus`, { name: str(), resourceClaimName: str() }, { required: ["name"] }),
    ["name"],
    { strategy: "merge,retainKeys" },
  ),
  startTime: time(),
});
