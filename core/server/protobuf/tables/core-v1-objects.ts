/**
 * @module Descriptor table: k8s.io/api core/v1 top-level kinds other than Pod
 * (Namespace, ConfigMap, Secret, Service, ServiceAccount, ResourceQuota,
 * Binding, LimitRange, Endpoints, Event, ReplicationController) and shared
 * reference types.
 *
 * Field numbers and JSON names follow the upstream `generated.proto` / Go struct
 * tags; field order is Go struct order. Notation: `../descriptors.ts`.
 */

import type { MessageTable } from "../descriptors.ts";

export const CORE_V1_OBJECTS: MessageTable = {
  "core.v1.Namespace": "1 metadata meta.v1.ObjectMeta, 2 spec core.v1.NamespaceSpec, 3 status core.v1.NamespaceStatus",
  "core.v1.NamespaceSpec": "1 finalizers string[]",
  "core.v1.NamespaceStatus": "1 phase string, 2 conditions core.v1.NamespaceCondition[]",
  "core.v1.NamespaceCondition":
    "1 type string!, 2 status string!, 4 lastTransitionTime meta.v1.Time, 5 reason string, 6 message string",
  "core.v1.ConfigMap": "1 metadata meta.v1.ObjectMeta, 4 immutable bool?, 2 data string{}, 3 binaryData bytes{}",
  "core.v1.Secret":
    "1 metadata meta.v1.ObjectMeta, 5 immutable bool?, 2 data bytes{}, 4 stringData string{}, 3 type string",
  "core.v1.ServiceAccount":
    "1 metadata meta.v1.ObjectMeta, 2 secrets core.v1.ObjectReference[], 3 imagePullSecrets core.v1.LocalObjectReference[], 4 automountServiceAccountToken bool?",
  "core.v1.Binding": "1 metadata meta.v1.ObjectMeta, 2 target core.v1.ObjectReference",
  "core.v1.ObjectReference":
    "1 kind string, 2 namespace string, 3 name string, 4 uid string, 5 apiVersion string, 6 resourceVersion string, 7 fieldPath string",
  "core.v1.LocalObjectReference": "1 name string",
  "core.v1.Service": "1 metadata meta.v1.ObjectMeta, 2 spec core.v1.ServiceSpec, 3 status core.v1.ServiceStatus",
  "core.v1.ServiceSpec": [
    "1 ports core.v1.ServicePort[]",
    "2 selector string{}",
    "3 clusterIP string",
    "18 clusterIPs string[]",
    "4 type string",
    "5 externalIPs string[]",
    "7 sessionAffinity string",
    "8 loadBalancerIP string",
    "9 loadBalancerSourceRanges string[]",
    "10 externalName string",
    "11 externalTrafficPolicy string",
    "12 healthCheckNodePort int32",
    "13 publishNotReadyAddresses bool",
    "14 sessionAffinityConfig core.v1.SessionAffinityConfig?",
    "19 ipFamilies string[]",
    "17 ipFamilyPolicy string?",
    "20 allocateLoadBalancerNodePorts bool?",
    "21 loadBalancerClass string?",
    "22 internalTrafficPolicy string?",
    "23 trafficDistribution string?",
  ].join(", "),
  "core.v1.ServicePort":
    "1 name string, 2 protocol string, 6 appProtocol string?, 3 port int32!, 4 targetPort intstr.IntOrString, 5 nodePort int32",
  "core.v1.SessionAffinityConfig": "1 clientIP core.v1.ClientIPConfig?",
  "core.v1.ClientIPConfig": "1 timeoutSeconds int32?",
  "core.v1.ServiceStatus": "1 loadBalancer core.v1.LoadBalancerStatus, 2 conditions meta.v1.Condition[]",
  "core.v1.LoadBalancerStatus": "1 ingress core.v1.LoadBalancerIngress[]",
  "core.v1.LoadBalancerIngress": "1 ip string, 2 hostname string, 3 ipMode string?, 4 ports core.v1.PortStatus[]",
  "core.v1.PortStatus": "1 port int32!, 2 protocol string!, 3 error string?",
  "core.v1.ResourceQuota":
    "1 metadata meta.v1.ObjectMeta, 2 spec core.v1.ResourceQuotaSpec, 3 status core.v1.ResourceQuotaStatus",
  "core.v1.ResourceQuotaSpec":
    "1 hard resource.Quantity{}, 2 scopes string[], 3 scopeSelector core.v1.ScopeSelector?",
  "core.v1.ScopeSelector": "1 matchExpressions core.v1.ScopedResourceSelectorRequirement[]",
  "core.v1.ScopedResourceSelectorRequirement": "1 scopeName string!, 2 operator string!, 3 values string[]",
  "core.v1.ResourceQuotaStatus": "1 hard resource.Quantity{}, 2 used resource.Quantity{}",
  "core.v1.LimitRange": "1 metadata meta.v1.ObjectMeta, 2 spec core.v1.LimitRangeSpec",
  "core.v1.LimitRangeSpec": "1 limits core.v1.LimitRangeItem[]!",
  "core.v1.LimitRangeItem": [
    "1 type string!",
    "2 max resource.Quantity{}",
    "3 min resource.Quantity{}",
    "4 default resource.Quantity{}",
    "5 defaultRequest resource.Quantity{}",
    "6 maxLimitRequestRatio resource.Quantity{}",
  ].join(", "),
  "core.v1.Endpoints": "1 metadata meta.v1.ObjectMeta, 2 subsets core.v1.EndpointSubset[]",
  "core.v1.EndpointSubset":
    "1 addresses core.v1.EndpointAddress[], 2 notReadyAddresses core.v1.EndpointAddress[], 3 ports core.v1.EndpointPort[]",
  "core.v1.EndpointAddress":
    "1 ip string!, 3 hostname string, 4 nodeName string?, 2 targetRef core.v1.ObjectReference?",
  "core.v1.EndpointPort": "1 name string, 2 port int32!, 3 protocol string, 4 appProtocol string?",
  "core.v1.Event": [
    "1 metadata meta.v1.ObjectMeta",
    "2 involvedObject core.v1.ObjectReference",
    "3 reason string",
    "4 message string",
    "5 source core.v1.EventSource",
    "6 firstTimestamp meta.v1.Time",
    "7 lastTimestamp meta.v1.Time",
    "8 count int32",
    "9 type string",
    "10 eventTime meta.v1.MicroTime",
    "11 series core.v1.EventSeries?",
    "12 action string",
    "13 related core.v1.ObjectReference?",
    "14 reportingComponent string!",
    "15 reportingInstance string!",
  ].join(", "),
  "core.v1.EventSource": "1 component string, 2 host string",
  "core.v1.EventSeries": "1 count int32, 2 lastObservedTime meta.v1.MicroTime",
  "core.v1.ReplicationController":
    "1 metadata meta.v1.ObjectMeta, 2 spec core.v1.ReplicationControllerSpec, 3 status core.v1.ReplicationControllerStatus",
  "core.v1.ReplicationControllerSpec":
    "1 replicas int32?, 4 minReadySeconds int32, 2 selector string{}, 3 template core.v1.PodTemplateSpec?",
  "core.v1.ReplicationControllerStatus":
    "1 replicas int32!, 2 fullyLabeledReplicas int32, 4 readyReplicas int32, 5 availableReplicas int32, 3 observedGeneration int64, 6 conditions core.v1.ReplicationControllerCondition[]",
  "core.v1.ReplicationControllerCondition":
    "1 type string!, 2 status string!, 3 lastTransitionTime meta.v1.Time, 4 reason string, 5 message string",
};
