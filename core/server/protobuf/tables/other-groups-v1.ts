/**
 * @module Descriptor table: rbac.authorization.k8s.io/v1, policy/v1,
 * networking.k8s.io/v1, scheduling.k8s.io/v1 and authentication.k8s.io/v1.
 *
 * Field numbers and JSON names follow the upstream `generated.proto` / Go struct
 * tags; field order is Go struct order. Notation: `../descriptors.ts`.
 */

import type { MessageTable } from "../descriptors.ts";

export const RBAC_V1: MessageTable = {
  "rbac.v1.PolicyRule":
    "1 verbs string[]!, 2 apiGroups string[], 3 resources string[], 4 resourceNames string[], 5 nonResourceURLs string[]",
  "rbac.v1.Subject": "1 kind string!, 2 apiGroup string, 3 name string!, 4 namespace string",
  "rbac.v1.RoleRef": "1 apiGroup string!, 2 kind string!, 3 name string!",
  "rbac.v1.Role": "1 metadata meta.v1.ObjectMeta, 2 rules rbac.v1.PolicyRule[]!",
  "rbac.v1.RoleBinding": "1 metadata meta.v1.ObjectMeta, 2 subjects rbac.v1.Subject[], 3 roleRef rbac.v1.RoleRef",
  "rbac.v1.ClusterRole":
    "1 metadata meta.v1.ObjectMeta, 2 rules rbac.v1.PolicyRule[]!, 3 aggregationRule rbac.v1.AggregationRule?",
  "rbac.v1.AggregationRule": "1 clusterRoleSelectors meta.v1.LabelSelector[]",
  "rbac.v1.ClusterRoleBinding":
    "1 metadata meta.v1.ObjectMeta, 2 subjects rbac.v1.Subject[], 3 roleRef rbac.v1.RoleRef",
};

export const POLICY_V1: MessageTable = {
  "policy.v1.PodDisruptionBudget":
    "1 metadata meta.v1.ObjectMeta, 2 spec policy.v1.PodDisruptionBudgetSpec, 3 status policy.v1.PodDisruptionBudgetStatus",
  "policy.v1.PodDisruptionBudgetSpec":
    "1 minAvailable intstr.IntOrString?, 2 selector meta.v1.LabelSelector?, 3 maxUnavailable intstr.IntOrString?, 4 unhealthyPodEvictionPolicy string?",
  "policy.v1.PodDisruptionBudgetStatus": [
    "1 observedGeneration int64",
    "2 disruptedPods meta.v1.Time{}",
    "3 disruptionsAllowed int32!",
    "4 currentHealthy int32!",
    "5 desiredHealthy int32!",
    "6 expectedPods int32!",
    "7 conditions meta.v1.Condition[]",
  ].join(", "),
  "policy.v1.Eviction": "1 metadata meta.v1.ObjectMeta, 2 deleteOptions meta.v1.DeleteOptions?",
};

export const NETWORKING_V1: MessageTable = {
  "networking.v1.Ingress":
    "1 metadata meta.v1.ObjectMeta, 2 spec networking.v1.IngressSpec, 3 status networking.v1.IngressStatus",
  "networking.v1.IngressSpec":
    "4 ingressClassName string?, 1 defaultBackend networking.v1.IngressBackend?, 2 tls networking.v1.IngressTLS[], 3 rules networking.v1.IngressRule[]",
  "networking.v1.IngressTLS": "1 hosts string[], 2 secretName string",
  "networking.v1.IngressStatus": "1 loadBalancer networking.v1.IngressLoadBalancerStatus",
  "networking.v1.IngressLoadBalancerStatus": "1 ingress networking.v1.IngressLoadBalancerIngress[]",
  "networking.v1.IngressLoadBalancerIngress":
    "1 ip string, 2 hostname string, 4 ports networking.v1.IngressPortStatus[]",
  "networking.v1.IngressPortStatus": "1 port int32!, 2 protocol string!, 3 error string?",
  "networking.v1.IngressRule": "1 host string, 2 ingressRuleValue networking.v1.IngressRuleValue^",
  "networking.v1.IngressRuleValue": "1 http networking.v1.HTTPIngressRuleValue?",
  "networking.v1.HTTPIngressRuleValue": "1 paths networking.v1.HTTPIngressPath[]!",
  "networking.v1.HTTPIngressPath": "1 path string, 3 pathType string?!, 2 backend networking.v1.IngressBackend",
  "networking.v1.IngressBackend":
    "4 service networking.v1.IngressServiceBackend?, 3 resource core.v1.TypedLocalObjectReference?",
  "networking.v1.IngressServiceBackend": "1 name string!, 2 port networking.v1.ServiceBackendPort",
  "networking.v1.ServiceBackendPort": "1 name string, 2 number int32",
  "networking.v1.IngressClass": "1 metadata meta.v1.ObjectMeta, 2 spec networking.v1.IngressClassSpec",
  "networking.v1.IngressClassSpec": "1 controller string, 2 parameters networking.v1.IngressClassParametersReference?",
  "networking.v1.IngressClassParametersReference":
    "1 apiGroup string?, 2 kind string!, 3 name string!, 4 scope string?!, 5 namespace string?",
  "networking.v1.NetworkPolicy": "1 metadata meta.v1.ObjectMeta, 2 spec networking.v1.NetworkPolicySpec",
  "networking.v1.NetworkPolicySpec":
    "1 podSelector meta.v1.LabelSelector, 2 ingress networking.v1.NetworkPolicyIngressRule[], 3 egress networking.v1.NetworkPolicyEgressRule[], 4 policyTypes string[]",
  "networking.v1.NetworkPolicyIngressRule":
    "1 ports networking.v1.NetworkPolicyPort[], 2 from networking.v1.NetworkPolicyPeer[]",
  "networking.v1.NetworkPolicyEgressRule":
    "1 ports networking.v1.NetworkPolicyPort[], 2 to networking.v1.NetworkPolicyPeer[]",
  "networking.v1.NetworkPolicyPort": "1 protocol string?, 2 port intstr.IntOrString?, 3 endPort int32?",
  "networking.v1.IPBlock": "1 cidr string!, 2 except string[]",
  "networking.v1.NetworkPolicyPeer":
    "1 podSelector meta.v1.LabelSelector?, 2 namespaceSelector meta.v1.LabelSelector?, 3 ipBlock networking.v1.IPBlock?",
};

export const SCHEDULING_V1: MessageTable = {
  "scheduling.v1.PriorityClass":
    "1 metadata meta.v1.ObjectMeta, 2 value int32!, 3 globalDefault bool, 4 description string, 5 preemptionPolicy string?",
};

export const AUTHENTICATION_V1: MessageTable = {
  "authentication.v1.TokenRequest":
    "1 metadata meta.v1.ObjectMeta, 2 spec authentication.v1.TokenRequestSpec, 3 status authentication.v1.TokenRequestStatus",
  "authentication.v1.TokenRequestSpec":
    "1 audiences string[]!, 4 expirationSeconds int64?!, 3 boundObjectRef authentication.v1.BoundObjectReference?!",
  "authentication.v1.TokenRequestStatus": "1 token string!, 2 expirationTimestamp meta.v1.Time",
  "authentication.v1.BoundObjectReference": "1 kind string, 2 apiVersion string, 3 name string, 4 uid string",
  "authentication.v1.TokenReview":
    "1 metadata meta.v1.ObjectMeta, 2 spec authentication.v1.TokenReviewSpec, 3 status authentication.v1.TokenReviewStatus",
  "authentication.v1.TokenReviewSpec": "1 token string, 2 audiences string[]",
  "authentication.v1.TokenReviewStatus":
    "1 authenticated bool, 2 user authentication.v1.UserInfo, 4 audiences string[], 3 error string",
  "authentication.v1.UserInfo":
    "1 username string, 2 uid string, 3 groups string[], 4 extra authentication.v1.ExtraValue{}",
};
