/**
 * @module core/v1 Container and everything below it (ports, env, probes,
 * lifecycle, resources, security context), with upstream's list and patch
 * annotations (k8s.io/api core/v1 types.go, v1.32).
 */
import {
  atomic,
  bool,
  int32,
  int64,
  intOrString,
  keyed,
  mapList,
  obj,
  quantity,
  ref,
  resourceList,
  str,
} from "../schema-dsl.ts";

export const CORE = "io.k8s.api.core.v1";

export const LOCAL_OBJECT_REFERENCE = obj(`${CORE}.LocalObjectReference`, { name: str({ default: "" }) }, { mapType: "atomic" });

export const CONTAINER_PORT = obj(
  `${CORE}.ContainerPort`,
  { containerPort: int32(), hostIP: str(), hostPort: int32(), name: str(), protocol: str({ default: "TCP" }) },
  { required: ["containerPort"] },
);

export const OBJECT_FIELD_SELECTOR = obj(
  `${CORE}.ObjectFieldSelector`,
  { apiVersion: str(), fieldPath: str() },
  { required: ["fieldPath"], mapType: "atomic" },
);

export const RESOURCE_FIELD_SELECTOR = obj(
  `${CORE}.ResourceFieldSelector`,
  { containerName: str(), divisor: quantity(), resource: str() },
  { required: ["resource"], mapType: "atomic" },
);

const CONFIG_MAP_KEY_SELECTOR = obj(
  `${CORE}.ConfigMapKeySelector`,
  { key: str(), name: str({ default: "" }), optional: bool() },
  { required: ["key"], mapType: "atomic" },
);

const SECRET_KEY_SELECTOR = obj(
  `${CORE}.SecretKeySelector`,
  { key: str(), name: str({ default: "" }), optional: bool() },
  { required: ["key"], mapType: "atomic" },
);

const ENV_VAR_SOURCE = obj(`${CORE}.EnvVarSource`, {
  configMapKeyRef: ref(CONFIG_MAP_KEY_SELECTOR),
  fieldRef: ref(OBJECT_FIELD_SELECTOR),
  resourceFieldRef: ref(RESOURCE_FIELD_SELECTOR),
  secretKeyRef: ref(SECRET_KEY_SELECTOR),
});

export const ENV_VAR = obj(`${CORE}.EnvVar`, { name: str(), value: str(), valueFrom: ref(ENV_VAR_SOURCE) }, { required: ["name"] });

const ENV_FROM_SOURCE = obj(`${CORE}.EnvFromSource`, {
  configMapRef: obj(`${CORE}.ConfigMapEnvSource`, { name: str({ default: "" }), optional: bool() }),
  prefix: str(),
  secretRef: obj(`${CORE}.SecretEnvSource`, { name: str({ default: "" }), optional: bool() }),
});

const RESOURCE_CLAIM = obj(`${CORE}.ResourceClaim`, { name: str(), request: str() }, { required: ["name"] });

export const RESOURCE_REQUIREMENTS = obj(`${CORE}.ResourceRequirements`, {
  claims: mapList(RESOURCE_CLAIM, ["name"]),
  limits: resourceList(),
  requests: resourceList(),
});

const CONTAINER_RESIZE_POLICY = obj(
  `${CORE}.ContainerResizePolicy`,
  { resourceName: str(), restartPolicy: str() },
  { required: ["resourceName", "restartPolicy"] },
);

export const VOLUME_MOUNT = obj(
  `${CORE}.VolumeMount`,
  {
    mountPath: str(),
    mountPropagation: str(),
    name: str(),
    readOnly: bool(),
    recursiveReadOnly: str(),
    subPath: str(),
    subPathExpr: str(),
  },
  { required: ["name", "mountPath"] },
);

const VOLUME_DEVICE = obj(`${CORE}.VolumeDevice`, { devicePath: str(), name: str() }, { required: ["name", "devicePath"] });

const HTTP_HEADER = obj(`${CORE}.HTTPHeader`, { name: str(), value: str() }, { required: ["name", "value"] });

export const EXEC_ACTION = obj(`${CORE}.ExecAction`, { command: atomic(str()) });

export const HTTP_GET_ACTION = obj(
  `${CORE}.HTTPGetAction`,
  { host: str(), httpHeaders: atomic(HTTP_HEADER), path: str(), port: intOrString(), scheme: str() },
  { required: ["port"] },
);

export const TCP_SOCKET_ACTION = obj(`${CORE}.TCPSocketAction`, { host: str(), port: intOrString() }, { required: ["port"] });

const GRPC_ACTION = obj(`${CORE}.GRPCAction`, { port: int32(), service: str({ default: "" }) }, { required: ["port"] });

const SLEEP_ACTION = obj(`${CORE}.SleepAction`, { seconds: int64() }, { required: ["seconds"] });

export const PROBE = obj(`${CORE}.Probe`, {
  exec: ref(EXEC_ACTION),
  failureThreshold: int32(),
  grpc: ref(GRPC_ACTION),
  httpGet: ref(HTTP_GET_ACTION),
  initialDelaySeconds: int32(),
  periodSeconds: int32(),
  successThreshold: int32(),
  tcpSocket: ref(TCP_SOCKET_ACTION),
  terminationGracePeriodSeconds: int64(),
  timeoutSeconds: int32(),
});

const LIFECYCLE_HANDLER = obj(`${CORE}.LifecycleHandler`, {
  exec: ref(EXEC_ACTION),
  httpGet: ref(HTTP_GET_ACTION),
  sleep: ref(SLEEP_ACTION),
  tcpSocket: ref(TCP_SOCKET_ACTION),
});

const LIFECYCLE = obj(`${CORE}.Lifecycle`, { postStart: ref(LIFECYCLE_HANDLER), preStop: ref(LIFECYCLE_HANDLER) });

export const SE_LINUX_OPTIONS = obj(`${CORE}.SELinuxOptions`, { level: str(), role: str(), type: str(), user: str() });

export const WINDOWS_SECURITY_CONTEXT_OPTIONS = obj(`${CORE}.WindowsSecurityContextOptions`, {
  gmsaCredentialSpec: str(),
  gmsaCredentialSpecName: str(),
  hostProcess: bool(),
  runAsUserName: str(),
});

export const SECCOMP_PROFILE = obj(`${CORE}.SeccompProfile`, { localhostProfile: str(), type: str() }, { required: ["type"] });

export const APP_ARMOR_PROFILE = obj(`${CORE}.AppArmorProfile`, { localhostProfile: str(), type: str() }, { required: ["type"] });

const SECURITY_CONTEXT = obj(`${CORE}.SecurityContext`, {
  allowPrivilegeEscalation: bool(),
  appArmorProfile: ref(APP_ARMOR_PROFILE),
  capabilities: obj(`${CORE}.Capabilities`, { add: atomic(str()), drop: atomic(str()) }),
  privileged: bool(),
  procMount: str(),
  readOnlyRootFilesystem: bool(),
  runAsGroup: int64(),
  runAsNonRoot: bool(),
  runAsUser: int64(),
  seLinuxOptions: ref(SE_LINUX_OPTIONS),
  seccompProfile: ref(SECCOMP_PROFILE),
  windowsOptions: ref(WINDOWS_SECURITY_CONTEXT_OPTIONS),
});

/** Fields shared by Container and EphemeralContainer. */
function containerFields() {
  return {
    args: atomic(str()),
    command: atomic(str()),
    env: keyed(ENV_VAR, ["name"]),
    envFrom: atomic(ENV_FROM_SOURCE),
    image: str(),
    imagePullPolicy: str(),
    lifecycle: ref(LIFECYCLE),
    livenessProbe: ref(PROBE),
    name: str(),
    ports: keyed(CONTAINER_PORT, ["containerPort", "protocol"]),
    readinessProbe: ref(PROBE),
    resizePolicy: atomic(CONTAINER_RESIZE_POLICY),
    resources: ref(RESOURCE_REQUIREMENTS),
    restartPolicy: str(),
    securityContext: ref(SECURITY_CONTEXT),
    startupProbe: ref(PROBE),
    stdin: bool(),
    stdinOnce: bool(),
    terminationMessagePath: str(),
    terminationMessagePolicy: str(),
    tty: bool(),
    volumeDevices: keyed(VOLUME_DEVICE, ["devicePath"]),
    volumeMounts: keyed(VOLUME_MOUNT, ["mountPath"]),
    workingDir: str(),
  };
}

export const CONTAINER = obj(`${CORE}.Container`, containerFields(), { required: ["name"] });

export const EPHEMERAL_CONTAINER = obj(
  `${CORE}.EphemeralContainer`,
  { ...containerFields(), targetContainerName: str() },
  { required: ["name"] },
);
