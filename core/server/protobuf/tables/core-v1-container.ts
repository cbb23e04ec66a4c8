/**
 * @module Descriptor table: k8s.io/api core/v1 Container and everything it
 * references (ports, env, probes, lifecycle, resources, security context).
 *
 * Field numbers and JSON names follow the upstream `generated.proto` / Go struct
 * tags; field order is Go struct order. Notation: `../descriptors.ts`.
 */

import type { MessageTable } from "../descriptors.ts";

export const CORE_V1_CONTAINER: MessageTable = {
  "core.v1.Container": [
    "1 name string!",
    "2 image string",
    "3 command string[]",
    "4 args string[]",
    "5 workingDir string",
    "6 ports core.v1.ContainerPort[]",
    "19 envFrom core.v1.EnvFromSource[]",
    "7 env core.v1.EnvVar[]",
    "8 resources core.v1.ResourceRequirements",
    "23 resizePolicy core.v1.ContainerResizePolicy[]",
    "24 restartPolicy string?",
    "25 restartPolicyRules core.v1.ContainerRestartRule[]",
    "9 volumeMounts core.v1.VolumeMount[]",
    "21 volumeDevices core.v1.VolumeDevice[]",
    "10 livenessProbe core.v1.Probe?",
    "11 readinessProbe core.v1.Probe?",
    "22 startupProbe core.v1.Probe?",
    "12 lifecycle core.v1.Lifecycle?",
    "13 terminationMessagePath string",
    "20 terminationMessagePolicy string",
    "14 imagePullPolicy string",
    "15 securityContext core.v1.SecurityContext?",
    "16 stdin bool",
    "17 stdinOnce bool",
    "18 tty bool",
  ].join(", "),
  "core.v1.ContainerPort": "1 name string, 2 hostPort int32, 3 containerPort int32!, 4 protocol string, 5 hostIP string",
  "core.v1.VolumeMount":
    "1 name string!, 2 readOnly bool, 7 recursiveReadOnly string?, 3 mountPath string!, 4 subPath string, 5 mountPropagation string?, 6 subPathExpr string",
  "core.v1.VolumeDevice": "1 name string!, 2 devicePath string!",
  "core.v1.EnvVar": "1 name string!, 2 value string, 3 valueFrom core.v1.EnvVarSource?",
  "core.v1.EnvVarSource":
    "1 fieldRef core.v1.ObjectFieldSelector?, 2 resourceFieldRef core.v1.ResourceFieldSelector?, 3 configMapKeyRef core.v1.ConfigMapKeySelector?, 4 secretKeyRef core.v1.SecretKeySelector?, 5 fileKeyRef core.v1.FileKeySelector?",
  "core.v1.FileKeySelector": "1 volumeName string!, 2 path string!, 3 key string!, 4 optional bool?",
  "core.v1.ObjectFieldSelector": "1 apiVersion string, 2 fieldPath string!",
  "core.v1.ResourceFieldSelector": "1 containerName string, 2 resource string!, 3 divisor resource.Quantity",
  "core.v1.ConfigMapKeySelector":
    "1 localObjectReference core.v1.LocalObjectReference^, 2 key string!, 3 optional bool?",
  "core.v1.SecretKeySelector": "1 localObjectReference core.v1.LocalObjectReference^, 2 key string!, 3 optional bool?",
  "core.v1.EnvFromSource":
    "1 prefix string, 2 configMapRef core.v1.ConfigMapEnvSource?, 3 secretRef core.v1.SecretEnvSource?",
  "core.v1.ConfigMapEnvSource": "1 localObjectReference core.v1.LocalObjectReference^, 2 optional bool?",
  "core.v1.SecretEnvSource": "1 localObjectReference core.v1.LocalObjectReference^, 2 optional bool?",
  "core.v1.HTTPHeader": "1 name string!, 2 value string!",
  "core.v1.HTTPGetAction":
    "1 path string, 2 port intstr.IntOrString!, 3 host string, 4 scheme string, 5 httpHeaders core.v1.HTTPHeader[]",
  "core.v1.TCPSocketAction": "1 port intstr.IntOrString!, 2 host string",
  "core.v1.GRPCAction": "1 port int32!, 2 service string?!",
  "core.v1.ExecAction": "1 command string[]",
  "core.v1.SleepAction": "1 seconds int64!",
  "core.v1.Probe": [
    "1 handler core.v1.ProbeHandler^",
    "2 initialDelaySeconds int32",
    "3 timeoutSeconds int32",
    "4 periodSeconds int32",
    "5 successThreshold int32",
    "6 failureThreshold int32",
    "7 terminationGracePeriodSeconds int64?",
  ].join(", "),
  "core.v1.ProbeHandler":
    "1 exec core.v1.ExecAction?, 2 httpGet core.v1.HTTPGetAction?, 3 tcpSocket core.v1.TCPSocketAction?, 4 grpc core.v1.GRPCAction?",
  "core.v1.LifecycleHandler":
    "1 exec core.v1.ExecAction?, 2 httpGet core.v1.HTTPGetAction?, 3 tcpSocket core.v1.TCPSocketAction?, 4 sleep core.v1.SleepAction?",
  "core.v1.Lifecycle":
    "1 postStart core.v1.LifecycleHandler?, 2 preStop core.v1.LifecycleHandler?, 3 stopSignal string?",
  "core.v1.ContainerResizePolicy": "1 resourceName string!, 2 restartPolicy string!",
  "core.v1.ContainerRestartRule": "1 action string, 2 exitCodes core.v1.ContainerRestartRuleOnExitCodes?",
  "core.v1.ContainerRestartRuleOnExitCodes": "1 operator string, 2 values int32[]",
  "core.v1.Capabilities": "1 add string[], 2 drop string[]",
  "core.v1.ResourceRequirements":
    "1 limits resource.Quantity{}, 2 requests resource.Quantity{}, 3 claims core.v1.ResourceClaim[]",
  "core.v1.ResourceClaim": "1 name string!, 2 request string",
  "core.v1.SecurityContext": [
    "1 capabilities core.v1.Capabilities?",
    "2 privileged bool?",
    "3 seLinuxOptions core.v1.SELinuxOptions?",
    "10 windowsOptions core.v1.WindowsSecurityContextOptions?",
    "4 runAsUser int64?",
    "8 runAsGroup int64?",
    "5 runAsNonRoot bool?",
    "6 readOnlyRootFilesystem bool?",
    "7 allowPrivilegeEscalation bool?",
    "9 procMount string?",
    "11 seccompProfile core.v1.SeccompProfile?",
    "12 appArmorProfile core.v1.AppArmorProfile?",
  ].join(", "),
  "core.v1.SELinuxOptions": "1 user string, 2 role string, 3 type string, 4 level string",
  "core.v1.WindowsSecurityContextOptions":
    "1 gmsaCredentialSpecName string?, 2 gmsaCredentialSpec string?, 3 runAsUserName string?, 4 hostProcess bool?",
  "core.v1.SeccompProfile": "1 type string!, 2 localhostProfile string?",
  "core.v1.AppArmorProfile": "1 type string!, 2 localhostProfile string?",
  "core.v1.Sysctl": "1 name string!, 2 value string!",
};
