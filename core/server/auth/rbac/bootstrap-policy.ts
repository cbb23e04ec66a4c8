/**
 * @module The default ClusterRoles and ClusterRoleBindings (upstream's
 * `plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`, 1.32), kept to
 * the API groups Skiff serves (no `extensions`, `storage.k8s.io`,
 * `certificates.k8s.io`, `node.k8s.io`, `resource.k8s.io` rules). Every object
 * carries `kubernetes.io/bootstrapping: rbac-defaults` and
 * `rbac.authorization.kubernetes.io/autoupdate: "true"`; `reconcile.ts`
 * creates and tops them up at start.
 *
 * `admin`, `edit` and `view` are aggregated (their rules come from the
 * ClusterRoles labelled `rbac.authorization.k8s.io/aggregate-to-<name>`:
 * `system:aggregate-to-*`, and `edit` → admin, `view` → edit).
 *
 * The identities the built-in plugins act as (`manifest.identity`) get
 * upstream's roles: `system:kube-scheduler`, `system:node-proxier`, and a
 * `system:controller:<name>` role bound to ServiceAccount `kube-system/<name>`
 * per controller (`controller_policy.go`), plus what Skiff's plugins do that
 * upstream's components do not (see `controllerRoles`).
 */
import type { KubeObject } from "../../../api/meta.ts";
import { Groups } from "../types.ts";
import type { PolicyRule, RoleRef, Subject } from "./rules.ts";

export const AUTO_UPDATE_ANNOTATION = "rbac.authorization.kubernetes.io/autoupdate";
export const BOOTSTRAP_LABEL = { "kubernetes.io/bootstrapping": "rbac-defaults" } as const;
export const AGGREGATE_TO = (role: "admin" | "edit" | "view") => `rbac.authorization.k8s.io/aggregate-to-${role}`;

const READ = ["get", "list", "watch"];
const WRITE = ["create", "update", "patch", "delete", "deletecollection"];
const READ_WRITE = [...READ, ...WRITE];
const READ_UPDATE = ["get", "list", "watch", "update", "patch"];

const CORE = "";
const APPS = "apps";
const AUTHN = "authentication.k8s.io";
const AUTHZ = "authorization.k8s.io";
const AUTOSCALING = "autoscaling";
const BATCH = "batch";
const COORDINATION = "coordination.k8s.io";
const DISCOVERY = "discovery.k8s.io";
const EVENTS = "events.k8s.io";
const NETWORKING = "networking.k8s.io";
const POLICY = "policy";
const RBAC = "rbac.authorization.k8s.io";

/** rbacv1helpers.NewRule(verbs...).Groups(...).Resources(...)[.Names(...)]. */
function rule(verbs: string[], groups: string[], resources: string[], names?: string[]): PolicyRule {
  return { verbs: [...verbs], apiGroups: [...groups], resources: [...resources], ...(names ? { resourceNames: [...names] } : {}) };
}

/** rbacv1helpers.NewRule(verbs...).URLs(...). */
function urls(verbs: string[], paths: string[]): PolicyRule {
  return { verbs: [...verbs], nonResourceURLs: [...paths] };
}

const eventsRule = (): PolicyRule => rule(["create", "update", "patch"], [CORE, EVENTS], ["events"]);

export interface ClusterRoleObject extends KubeObject {
  rules?: PolicyRule[];
  aggregationRule?: { clusterRoleSelectors: { matchLabels?: Record<string, string> }[] };
}

export interface ClusterRoleBindingObject extends KubeObject {
  roleRef: RoleRef;
  subjects?: Subject[];
}

/** NodeRules: what the node identity may do beyond what the node authorizer partitions. */
export function nodeRules(): PolicyRule[] {
  return [
    // Needed to check API access. These creates are non-mutating.
    rule(["create"], [AUTHN], ["tokenreviews"]),
    rule(["create"], [AUTHZ], ["subjectaccessreviews", "localsubjectaccessreviews"]),
    // Needed to build serviceLister, to populate env vars for services.
    rule(READ, [CORE], ["services"]),
    // Nodes can register Node API objects and report status (NodeRestriction limits them to their own).
    rule(["create", "get", "list", "watch"], [CORE], ["nodes"]),
    rule(["update", "patch"], [CORE], ["nodes/status"]),
    rule(["update", "patch"], [CORE], ["nodes"]),
    rule(["create", "update", "patch"], [CORE], ["events"]),
    rule(READ, [CORE], ["pods"]),
    // Mirror pods; NodeRestriction limits them to pods bound to the node.
    rule(["create", "delete"], [CORE], ["pods"]),
    rule(["update", "patch"], [CORE], ["pods/status"]),
    rule(["create"], [CORE], ["pods/eviction"]),
    // The node authorizer limits these to objects referenced by pods bound to the node.
    rule(READ, [CORE], ["secrets", "configmaps"]),
    rule(["get"], [CORE], ["persistentvolumeclaims", "persistentvolumes"]),
    rule(["get"], [CORE], ["endpoints"]),
    rule(["get", "create", "update", "patch", "delete"], [COORDINATION], ["leases"]),
    rule(["get", "update", "patch"], [CORE], ["persistentvolumeclaims/status"]),
    rule(["create"], [CORE], ["serviceaccounts/token"]),
  ];
}

/**
 * Leader election on the controller's own Lease (`kube-system/<lease>`):
 * Skiff elects a leader per controller plugin, where kube-controller-manager
 * elects one for all (with its own identity).
 */
function leaderElection(lease: string): PolicyRule[] {
  return [rule(["create"], [COORDINATION], ["leases"]), rule(["get", "update"], [COORDINATION], ["leases"], [lease])];
}

/** A controller's ServiceAccount in kube-system (`--use-service-account-credentials`). */
export const CONTROLLER_NAMESPACE = "kube-system";

interface ControllerRole {
  /** The ServiceAccount name; the role is `system:controller:<sa>`. */
  sa: string;
  rules: PolicyRule[];
  /** More ServiceAccounts bound to the role (a Skiff plugin doing two upstream controllers' work). */
  alsoBound?: string[];
}

/**
 * Upstream's `system:controller:*` roles (controller_policy.go, 1.32) for the
 * controllers Skiff ships, each plus its leader-election Lease. Where Skiff's
 * controller writes with `patch` what upstream's writes with `update`, both
 * verbs are granted. `event-ttl-controller` and its role are Skiff's
 * (upstream expires Events with etcd leases).
 */
function controllerRoles(): ControllerRole[] {
  return [
    {
      sa: "deployment-controller",
      rules: [
        rule(["get", "list", "watch", "update"], [APPS], ["deployments"]),
        rule(["update"], [APPS], ["deployments/status"]),
        rule(["update"], [APPS], ["deployments/finalizers"]),
        rule(["get", "list", "watch", "create", "update", "patch", "delete"], [APPS], ["replicasets"]),
        rule(["get", "list", "watch", "update"], [CORE], ["pods"]),
        eventsRule(),
        ...leaderElection("deployment-controller"),
      ],
    },
    {
      sa: "endpoint-controller",
      rules: [
        rule(READ, [CORE], ["services", "pods"]),
        rule(["get", "list", "watch", "create", "update", "delete"], [CORE], ["endpoints"]),
        rule(["create"], [CORE], ["endpoints/restricted"]),
        eventsRule(),
        ...leaderElection("endpoints-controller"),
      ],
    },
    {
      sa: "endpointslice-controller",
      rules: [
        rule(READ, [CORE], ["services", "pods", "nodes"]),
        rule(["update"], [CORE], ["services/finalizers"]),
        rule(["get", "list", "watch", "create", "update", "delete"], [DISCOVERY], ["endpointslices"]),
        eventsRule(),
        ...leaderElection("endpointslice-controller"),
      ],
    },
    {
      sa: "event-ttl-controller",
      rules: [rule(["get", "list", "watch", "delete"], [CORE, EVENTS], ["events"]), eventsRule(), ...leaderElection("event-ttl-controller")],
    },
    {
      sa: "generic-garbage-collector",
      // Lists, watches, selective gets and updates against any resource.
      rules: [rule(["get", "list", "watch", "patch", "update", "delete"], ["*"], ["*"]), eventsRule(), ...leaderElection("garbage-collector")],
    },
    {
      sa: "namespace-controller",
      rules: [
        rule(["get", "list", "watch", "delete"], [CORE], ["namespaces"]),
        rule(["update"], [CORE], ["namespaces/finalize", "namespaces/status"]),
        rule(["get", "list", "watch", "delete", "deletecollection"], ["*"], ["*"]),
        eventsRule(),
        ...leaderElection("namespace-controller"),
      ],
    },
    {
      // Upstream's node-controller and taint-eviction-controller: Skiff's node-lifecycle plugin does both.
      sa: "node-controller",
      rules: [
        rule(["get", "list", "watch", "update", "delete", "patch"], [CORE], ["nodes"]),
        rule(["patch", "update"], [CORE], ["nodes/status"]),
        rule(["patch", "update"], [CORE], ["pods/status"]),
        rule(["list", "watch", "get", "delete"], [CORE], ["pods"]),
        eventsRule(),
        ...leaderElection("node-lifecycle-controller"),
      ],
    },
    {
      sa: "replicaset-controller",
      rules: [
        rule(["get", "list", "watch", "update"], [APPS], ["replicasets"]),
        rule(["update"], [APPS], ["replicasets/status"]),
        rule(["update"], [APPS], ["replicasets/finalizers"]),
        rule(["list", "watch", "patch", "create", "delete"], [CORE], ["pods"]),
        eventsRule(),
        ...leaderElection("replicaset-controller"),
      ],
    },
    {
      // Skiff's replicaset-controller plugin also runs ReplicationControllers.
      sa: "replication-controller",
      alsoBound: ["replicaset-controller"],
      rules: [
        rule(["get", "list", "watch", "update"], [CORE], ["replicationcontrollers"]),
        rule(["update"], [CORE], ["replicationcontrollers/status"]),
        rule(["update"], [CORE], ["replicationcontrollers/finalizers"]),
        rule(["list", "watch", "patch", "create", "delete"], [CORE], ["pods"]),
        eventsRule(),
      ],
    },
    {
      sa: "resourcequota-controller",
      // Quota counts anything, so it needs full viewing powers.
      rules: [rule(["list", "watch"], ["*"], ["*"]), rule(["update"], [CORE], ["resourcequotas/status"]), eventsRule(), ...leaderElection("resourcequota-controller")],
    },
    {
      sa: "root-ca-cert-publisher",
      rules: [rule(["create", "update"], [CORE], ["configmaps"]), eventsRule(), ...leaderElection("root-ca-cert-publisher")],
    },
    {
      sa: "service-account-controller",
      rules: [rule(["create"], [CORE], ["serviceaccounts"]), eventsRule(), ...leaderElection("serviceaccount-controller")],
    },
  ];
}

/** The user Skiff's node agent acts as when its runtime simulates many nodes (the fake runtime's `nodes: N`): the node rules, unpartitioned. */
export const NODE_SIMULATOR_USER = "system:skiff:node-simulator";

function clusterRole(name: string, rules: PolicyRule[], extra: { labels?: Record<string, string>; aggregateFrom?: "admin" | "edit" | "view" } = {}): ClusterRoleObject {
  const role: ClusterRoleObject = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name, labels: { ...BOOTSTRAP_LABEL, ...(extra.labels ?? {}) }, annotations: { [AUTO_UPDATE_ANNOTATION]: "true" } },
  };
  if (extra.aggregateFrom) role.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE_TO(extra.aggregateFrom)]: "true" } }] };
  else role.rules = rules;
  return role;
}

/** The default ClusterRoles, in upstream's order. */
export function clusterRoles(): ClusterRoleObject[] {
  return [
    // A "root" role which can do absolutely anything.
    clusterRole("cluster-admin", [rule(["*"], ["*"], ["*"]), urls(["*"], ["*"])]),
    // Just enough to determine whether the server is ready and discover API versions.
    clusterRole("system:discovery", [
      urls(["get"], ["/livez", "/readyz", "/healthz", "/version", "/version/", "/openapi", "/openapi/*", "/api", "/api/*", "/apis", "/apis/*"]),
    ]),
    clusterRole("system:monitoring", [
      urls(["get"], ["/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz", "/livez/*", "/readyz/*", "/healthz/*"]),
    ]),
    // Minimal access for a "normal" user to learn about themselves.
    clusterRole("system:basic-user", [
      rule(["create"], [AUTHN], ["selfsubjectreviews"]),
      rule(["create"], [AUTHZ], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
    ]),
    // Insensitive cluster information, for everyone including anonymous users.
    clusterRole("system:public-info-viewer", [urls(["get"], ["/livez", "/readyz", "/healthz", "/version", "/version/"])]),
    // Namespace admin: edit plus granting permissions to others.
    clusterRole("admin", [], { aggregateFrom: "admin" }),
    // Namespace editor: all user-level actions, no status subresources, quota or RBAC.
    clusterRole("edit", [], { aggregateFrom: "edit", labels: { [AGGREGATE_TO("admin")]: "true" } }),
    // Namespace viewer: read-only access to non-escalating resources.
    clusterRole("view", [], { aggregateFrom: "view", labels: { [AGGREGATE_TO("edit")]: "true" } }),
    clusterRole(
      "system:aggregate-to-admin",
      [rule(["create"], [AUTHZ], ["localsubjectaccessreviews"]), rule(READ_WRITE, [RBAC], ["roles", "rolebindings"])],
      { labels: { [AGGREGATE_TO("admin")]: "true" } },
    ),
    clusterRole(
      "system:aggregate-to-edit",
      [
        // Read on escalating resources.
        rule(READ, [CORE], ["pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"]),
        rule(["impersonate"], [CORE], ["serviceaccounts"]),
        rule(WRITE, [CORE], ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]),
        rule(["create"], [CORE], ["pods/eviction"]),
        rule(WRITE, [CORE], ["replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/proxy", "persistentvolumeclaims", "configmaps", "secrets"]),
        rule(["create"], [CORE], ["serviceaccounts/token"]),
        rule(WRITE, [APPS], ["statefulsets", "statefulsets/scale", "daemonsets", "deployments", "deployments/scale", "deployments/rollback", "replicasets", "replicasets/scale"]),
        rule(WRITE, [AUTOSCALING], ["horizontalpodautoscalers"]),
        rule(WRITE, [BATCH], ["jobs", "cronjobs"]),
        rule(WRITE, [POLICY], ["poddisruptionbudgets"]),
        rule(WRITE, [NETWORKING], ["networkpolicies", "ingresses"]),
      ],
      { labels: { [AGGREGATE_TO("edit")]: "true" } },
    ),
    clusterRole(
      "system:aggregate-to-view",
      [
        rule(READ, [CORE], [
          "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status",
          "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps",
        ]),
        rule(READ, [CORE], [
          "limitranges", "resourcequotas", "bindings", "events", "pods/status", "resourcequotas/status", "namespaces/status",
          "replicationcontrollers/status", "pods/log",
        ]),
        // Reading namespaces at namespace scope means reading *this* namespace.
        rule(READ, [CORE], ["namespaces"]),
        rule(READ, [DISCOVERY], ["endpointslices"]),
        rule(READ, [APPS], [
          "controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale", "daemonsets", "daemonsets/status",
          "deployments", "deployments/status", "deployments/scale", "replicasets", "replicasets/status", "replicasets/scale",
        ]),
        rule(READ, [AUTOSCALING], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
        rule(READ, [BATCH], ["jobs", "cronjobs", "cronjobs/status", "jobs/status"]),
        rule(READ, [POLICY], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
        rule(READ, [NETWORKING], ["networkpolicies", "ingresses", "ingresses/status"]),
      ],
      { labels: { [AGGREGATE_TO("view")]: "true" } },
    ),
    // The node identity (the node authorizer grants these, partitioned; the binding has no subjects).
    clusterRole("system:node", nodeRules()),
    clusterRole("system:node-problem-detector", [rule(["get"], [CORE], ["nodes"]), rule(["patch"], [CORE], ["nodes/status"]), eventsRule()]),
    clusterRole("system:auth-delegator", [rule(["create"], [AUTHN], ["tokenreviews"]), rule(["create"], [AUTHZ], ["subjectaccessreviews"])]),
    clusterRole("system:kube-controller-manager", [
      eventsRule(),
      // Leader election.
      rule(["create"], [COORDINATION], ["leases"]),
      rule(["get", "update"], [COORDINATION], ["leases"], ["kube-controller-manager"]),
      // Fundamental resources.
      rule(["create"], [CORE], ["secrets", "serviceaccounts"]),
      rule(["delete"], [CORE], ["secrets"]),
      rule(["get"], [CORE], ["namespaces", "secrets", "serviceaccounts", "configmaps"]),
      rule(["update"], [CORE], ["secrets", "serviceaccounts"]),
      rule(["create"], [AUTHN], ["tokenreviews"]),
      rule(["create"], [AUTHZ], ["subjectaccessreviews"]),
      // Every shared informer.
      rule(["list", "watch"], ["*"], ["*"]),
      rule(["create"], [CORE], ["serviceaccounts/token"]),
    ]),
    clusterRole("system:kube-dns", [rule(["list", "watch"], [CORE], ["endpoints", "services"])]),
    clusterRole("system:service-account-issuer-discovery", [
      urls(["get"], ["/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/"]),
    ]),
    clusterRole("system:node-proxier", [
      rule(["list", "watch"], [CORE], ["services", "endpoints"]),
      rule(READ, [CORE], ["nodes"]),
      eventsRule(),
      rule(["list", "watch"], [DISCOVERY], ["endpointslices"]),
    ]),
    clusterRole("system:kube-scheduler", [
      eventsRule(),
      // Leader election.
      rule(["create"], [COORDINATION], ["leases"]),
      rule(["get", "update"], [COORDINATION], ["leases"], ["kube-scheduler"]),
      // Fundamental resources.
      rule(READ, [CORE], ["nodes"]),
      rule(["get", "list", "watch", "delete"], [CORE], ["pods"]),
      rule(["create"], [CORE], ["pods/binding", "bindings"]),
      rule(["patch", "update"], [CORE], ["pods/status"]),
      // Things that select pods.
      rule(READ, [CORE], ["services", "replicationcontrollers"]),
      rule(READ, [APPS], ["replicasets"]),
      rule(READ, [APPS], ["statefulsets"]),
      // Things that pods use or that apply to them.
      rule(READ, [POLICY], ["poddisruptionbudgets"]),
      rule(READ, [CORE], ["persistentvolumeclaims", "persistentvolumes"]),
      rule(["create"], [AUTHN], ["tokenreviews"]),
      rule(["create"], [AUTHZ], ["subjectaccessreviews"]),
      // namespaceSelector in pod affinity.
      rule(READ, [CORE], ["namespaces"]),
    ]),
    clusterRole("system:volume-scheduler", [rule(READ_UPDATE, [CORE], ["persistentvolumes"]), rule(READ_UPDATE, [CORE], ["persistentvolumeclaims"])]),
    // CoreDNS's own ClusterRole (its deployment manifest), for the dns plugin.
    clusterRole("system:coredns", [rule(["list", "watch"], [CORE], ["endpoints", "services", "pods", "namespaces"]), rule(["list", "watch"], [DISCOVERY], ["endpointslices"])]),
    // Skiff's dns plugin also publishes its own Service and EndpointSlice (upstream's addon manager creates them).
    clusterRole("system:skiff:dns-publisher", [
      rule(["create"], [CORE], ["namespaces"]),
      rule(["get", "create"], [CORE], ["services"]),
      rule(["get", "create", "update", "delete"], [DISCOVERY], ["endpointslices"]),
    ]),
    ...controllerRoles().map((c) => clusterRole(`system:controller:${c.sa}`, c.rules)),
  ];
}

function binding(name: string, subjects: Subject[], roleName = name): ClusterRoleBindingObject {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name, labels: { ...BOOTSTRAP_LABEL }, annotations: { [AUTO_UPDATE_ANNOTATION]: "true" } },
    roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: roleName },
    ...(subjects.length > 0 ? { subjects } : {}),
  };
}

const group = (name: string): Subject => ({ kind: "Group", apiGroup: RBAC, name });
const user = (name: string): Subject => ({ kind: "User", apiGroup: RBAC, name });
const serviceAccount = (namespace: string, name: string): Subject => ({ kind: "ServiceAccount", name, namespace });

/** The default ClusterRoleBindings, in upstream's order. */
export function clusterRoleBindings(): ClusterRoleBindingObject[] {
  return [
    binding("cluster-admin", [group(Groups.masters)]),
    binding("system:monitoring", [group("system:monitoring")]),
    binding("system:discovery", [group(Groups.authenticated)]),
    binding("system:basic-user", [group(Groups.authenticated)]),
    binding("system:public-info-viewer", [group(Groups.authenticated), group(Groups.unauthenticated)]),
    binding("system:node-proxier", [user("system:kube-proxy")]),
    binding("system:kube-controller-manager", [user("system:kube-controller-manager")]),
    binding("system:kube-dns", [serviceAccount("kube-system", "kube-dns")]),
    binding("system:kube-scheduler", [user("system:kube-scheduler")]),
    binding("system:volume-scheduler", [user("system:kube-scheduler")]),
    // Deprecated since the node authorizer: kept with no subjects, as upstream.
    binding("system:node", []),
    binding("system:service-account-issuer-discovery", [group(Groups.serviceAccounts)]),
    binding("system:coredns", [serviceAccount(CONTROLLER_NAMESPACE, "coredns")]),
    binding("system:skiff:dns-publisher", [serviceAccount(CONTROLLER_NAMESPACE, "coredns")]),
    // The node agent acting for simulated nodes: the node rules without the Node authorizer's partitioning.
    binding(NODE_SIMULATOR_USER, [user(NODE_SIMULATOR_USER)], "system:node"),
    ...controllerRoles().map((c) =>
      binding(
        `system:controller:${c.sa}`,
        [c.sa, ...(c.alsoBound ?? [])].map((sa) => serviceAccount(CONTROLLER_NAMESPACE, sa)),
      ),
    ),
  ];
}
