/**
 * @module A CronJob whose job template carries a PodSpec that exercises most of
 * the Pod schema (volumes of every common type, probes, lifecycle, env/envFrom,
 * resources, security contexts, affinity, tolerations, topology spread).
 *
 * `capture.ts` serves it so that `kubectl create job --from=cronjob/rich` copies
 * the template into a typed Job and sends it as protobuf: a real, Go-encoded
 * fixture of a full PodSpec. Pointer fields set to zero/false are deliberate.
 */

const labelSelector = { matchLabels: { app: "rich" }, matchExpressions: [{ key: "tier", operator: "In", values: ["a", "b"] }] };

const container = {
  name: "main",
  image: "nginx:1.27",
  command: ["nginx"],
  args: ["-g", "daemon off;"],
  workingDir: "/srv",
  ports: [
    { name: "http", containerPort: 80, protocol: "TCP" },
    { containerPort: 9090, hostPort: 19090, hostIP: "127.0.0.1", protocol: "UDP" },
  ],
  envFrom: [{ configMapRef: { name: "cm" } }, { prefix: "S_", secretRef: { name: "sec", optional: true } }],
  env: [
    { name: "PLAIN", value: "v" },
    { name: "EMPTY" },
    { name: "POD", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
    { name: "MEM", valueFrom: { resourceFieldRef: { containerName: "main", resource: "limits.memory", divisor: "1Mi" } } },
    { name: "CPU", valueFrom: { resourceFieldRef: { resource: "requests.cpu" } } },
    { name: "CMK", valueFrom: { configMapKeyRef: { name: "cm", key: "k", optional: false } } },
    { name: "SK", valueFrom: { secretKeyRef: { name: "sec", key: "password" } } },
  ],
  resources: { limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "250m", memory: "64Mi", "ephemeral-storage": "1Gi" } },
  volumeMounts: [
    { name: "scratch", mountPath: "/scratch" },
    { name: "config", mountPath: "/etc/config", readOnly: true, subPath: "app.conf" },
    { name: "host", mountPath: "/host", mountPropagation: "HostToContainer" },
  ],
  livenessProbe: {
    httpGet: { path: "/healthz", port: "http", scheme: "HTTP", httpHeaders: [{ name: "X-Probe", value: "1" }] },
    initialDelaySeconds: 5,
    periodSeconds: 10,
    timeoutSeconds: 1,
    successThreshold: 1,
    failureThreshold: 3,
    terminationGracePeriodSeconds: 0,
  },
  readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 5 },
  startupProbe: { exec: { command: ["cat", "/tmp/ready"] }, failureThreshold: 30 },
  lifecycle: {
    postStart: { exec: { command: ["sh", "-c", "echo hi"] } },
    preStop: { httpGet: { path: "/quit", port: 8080, host: "localhost" } },
  },
  terminationMessagePath: "/dev/termination-log",
  terminationMessagePolicy: "FallbackToLogsOnError",
  imagePullPolicy: "IfNotPresent",
  securityContext: {
    capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] },
    privileged: false,
    runAsUser: 0,
    runAsGroup: 0,
    runAsNonRoot: false,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    seccompProfile: { type: "RuntimeDefault" },
  },
  stdin: true,
  tty: true,
};

/** A PodSpec touching most of the schema (shared with `typed-manifests.ts`). */
export const RICH_POD_SPEC = {
  volumes: [
    { name: "scratch", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
    { name: "plain-empty", emptyDir: {} },
    { name: "config", configMap: { name: "cm", items: [{ key: "k", path: "app.conf", mode: 256 }], defaultMode: 420, optional: false } },
    { name: "sec", secret: { secretName: "sec", defaultMode: 256 } },
    { name: "host", hostPath: { path: "/var/log", type: "DirectoryOrCreate" } },
    { name: "data", persistentVolumeClaim: { claimName: "pvc", readOnly: true } },
    {
      name: "proj",
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { audience: "vault", expirationSeconds: 3600, path: "token" } },
          { configMap: { name: "cm", items: [{ key: "k", path: "k" }] } },
          { secret: { name: "sec", optional: true } },
          { downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
        ],
      },
    },
    {
      name: "downward",
      downwardAPI: {
        items: [
          { path: "name", fieldRef: { fieldPath: "metadata.name" } },
          { path: "mem", resourceFieldRef: { containerName: "main", resource: "limits.memory", divisor: "1Mi" }, mode: 292 },
        ],
      },
    },
  ],
  initContainers: [
    { name: "init", image: "busybox", command: ["sh", "-c", "true"], resources: {} },
    { name: "sidecar", image: "envoy", restartPolicy: "Always", resources: {} },
  ],
  containers: [container],
  restartPolicy: "OnFailure",
  terminationGracePeriodSeconds: 0,
  activeDeadlineSeconds: 600,
  dnsPolicy: "ClusterFirst",
  nodeSelector: { "kubernetes.io/os": "linux", disk: "ssd" },
  serviceAccountName: "runner",
  automountServiceAccountToken: false,
  hostNetwork: false,
  shareProcessNamespace: true,
  securityContext: {
    runAsUser: 1000,
    runAsNonRoot: true,
    supplementalGroups: [4000, 5000],
    fsGroup: 2000,
    fsGroupChangePolicy: "OnRootMismatch",
    sysctls: [{ name: "net.ipv4.ip_local_port_range", value: "1024 65535" }],
    seccompProfile: { type: "Localhost", localhostProfile: "profiles/audit.json" },
  },
  imagePullSecrets: [{ name: "regcred" }],
  hostname: "rich",
  subdomain: "svc",
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }],
      },
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 10, preference: { matchExpressions: [{ key: "gpu", operator: "Exists" }] } },
      ],
    },
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, podAffinityTerm: { labelSelector, topologyKey: "kubernetes.io/hostname" } },
      ],
    },
    podAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { labelSelector: { matchLabels: { app: "db" } }, namespaces: ["data"], topologyKey: "topology.kubernetes.io/zone" },
      ],
    },
  },
  schedulerName: "default-scheduler",
  tolerations: [
    { operator: "Exists" },
    { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 0 },
    { key: "dedicated", operator: "Equal", value: "batch", effect: "NoSchedule" },
  ],
  hostAliases: [{ ip: "10.0.0.1", hostnames: ["a.local", "b.local"] }],
  priorityClassName: "high",
  priority: 0,
  dnsConfig: { nameservers: ["1.1.1.1"], searches: ["svc.local"], options: [{ name: "ndots", value: "2" }, { name: "edns0" }] },
  readinessGates: [{ conditionType: "example.com/ready" }],
  enableServiceLinks: false,
  preemptionPolicy: "PreemptLowerPriority",
  topologySpreadConstraints: [
    { maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector, minDomains: 2, matchLabelKeys: ["pod-template-hash"] },
  ],
  os: { name: "linux" },
};

/** The CronJob served as `default/rich`. */
export const RICH_CRONJOB = {
  kind: "CronJob",
  apiVersion: "batch/v1",
  metadata: { name: "rich", namespace: "default", uid: "44444444-4444-4444-4444-444444444444" },
  spec: {
    schedule: "0 * * * *",
    jobTemplate: {
      metadata: { labels: { app: "rich", team: "infra" }, annotations: { "example.com/note": "from template" } },
      spec: {
        parallelism: 2,
        completions: 4,
        completionMode: "Indexed",
        backoffLimit: 0,
        backoffLimitPerIndex: 1,
        activeDeadlineSeconds: 3600,
        ttlSecondsAfterFinished: 0,
        suspend: false,
        podFailurePolicy: {
          rules: [
            { action: "FailJob", onExitCodes: { containerName: "main", operator: "In", values: [42, 43] } },
            { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
            { action: "Count", onExitCodes: { operator: "NotIn", values: [1] } },
          ],
        },
        template: { metadata: { labels: { app: "rich" }, annotations: { "a/b": "c" } }, spec: RICH_POD_SPEC },
      },
    },
  },
};
