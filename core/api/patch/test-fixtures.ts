/**
 * @module Hand-built schemas for the patch engine tests: a Deployment-like
 * kind with the upstream patch and list annotations that matter (containers
 * and env merge by name, ports keyed by containerPort+protocol with a
 * protocol default, volumes with retainKeys, finalizers a merge set, an
 * atomic selector, atomic lists without annotations). Test-only.
 */
import type { Schema } from "../schema.ts";

const str: Schema = { type: "string" };
const int: Schema = { type: "integer" };
const strMap: Schema = { type: "object", additionalProperties: { type: "string" } };

function keyedList(items: Schema, keys: string[], strategy = "merge"): Schema {
  return {
    type: "array",
    items,
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": keys,
    "x-kubernetes-patch-merge-key": keys[0] ?? "",
    "x-kubernetes-patch-strategy": strategy,
  };
}

export const OBJECT_META: Schema = {
  name: "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
  type: "object",
  properties: {
    name: str,
    generateName: str,
    namespace: str,
    uid: str,
    resourceVersion: str,
    generation: int,
    creationTimestamp: str,
    labels: strMap,
    annotations: strMap,
    finalizers: { type: "array", items: str, "x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge" },
    ownerReferences: keyedList(
      { type: "object", properties: { apiVersion: str, kind: str, name: str, uid: str, controller: { type: "boolean" } } },
      ["uid"],
    ),
    managedFields: { type: "array", items: { type: "object", "x-kubernetes-preserve-unknown-fields": true }, "x-kubernetes-list-type": "atomic" },
  },
};

const CONTAINER_PORT: Schema = {
  type: "object",
  properties: { name: str, containerPort: int, hostPort: int, protocol: { type: "string", default: "TCP" } },
};

const ENV_VAR: Schema = {
  type: "object",
  properties: { name: str, value: str, valueFrom: { type: "object", properties: { fieldRef: { type: "object", properties: { fieldPath: str } } } } },
};

export const CONTAINER: Schema = {
  name: "io.k8s.api.core.v1.Container",
  type: "object",
  properties: {
    name: str,
    image: str,
    imagePullPolicy: str,
    args: { type: "array", items: str },
    command: { type: "array", items: str, "x-kubernetes-list-type": "atomic" },
    ports: keyedList(CONTAINER_PORT, ["containerPort", "protocol"]),
    env: keyedList(ENV_VAR, ["name"]),
    resources: { type: "object", properties: { limits: strMap, requests: strMap } },
  },
};

const VOLUME: Schema = {
  type: "object",
  properties: {
    name: str,
    emptyDir: { type: "object", properties: { medium: str, sizeLimit: str } },
    hostPath: { type: "object", properties: { path: str, type: str } },
    configMap: { type: "object", properties: { name: str } },
  },
};

const POD_SPEC: Schema = {
  name: "io.k8s.api.core.v1.PodSpec",
  type: "object",
  required: ["containers"],
  properties: {
    containers: keyedList(CONTAINER, ["name"]),
    initContainers: keyedList(CONTAINER, ["name"]),
    volumes: keyedList(VOLUME, ["name"], "merge,retainKeys"),
    nodeSelector: { type: "object", additionalProperties: str, "x-kubernetes-map-type": "atomic" },
    tolerations: { type: "array", items: { type: "object", properties: { key: str, operator: str, effect: str } } },
    restartPolicy: str,
  },
};

const POD_TEMPLATE_SPEC: Schema = {
  name: "io.k8s.api.core.v1.PodTemplateSpec",
  type: "object",
  properties: { metadata: OBJECT_META, spec: POD_SPEC },
};

const DEPLOYMENT_STRATEGY: Schema = {
  name: "io.k8s.api.apps.v1.DeploymentStrategy",
  type: "object",
  properties: {
    type: str,
    rollingUpdate: { type: "object", properties: { maxSurge: { "x-kubernetes-int-or-string": true }, maxUnavailable: { "x-kubernetes-int-or-string": true } } },
  },
};

/** A Deployment-like kind (apps/v1); `template` and `strategy` are `allOf` wrappers like upstream refs. */
export const DEPLOYMENT: Schema = {
  name: "io.k8s.api.apps.v1.Deployment",
  type: "object",
  properties: {
    apiVersion: str,
    kind: str,
    metadata: OBJECT_META,
    spec: {
      type: "object",
      properties: {
        replicas: int,
        paused: { type: "boolean" },
        selector: { type: "object", properties: { matchLabels: strMap }, "x-kubernetes-map-type": "atomic" },
        strategy: { allOf: [DEPLOYMENT_STRATEGY], description: "The deployment strategy.", "x-kubernetes-patch-strategy": "retainKeys" },
        template: { allOf: [POD_TEMPLATE_SPEC], description: "Template describes the pods." },
      },
    },
    status: { type: "object", properties: { replicas: int, readyReplicas: int } },
  },
  "x-kubernetes-group-version-kind": [{ group: "apps", version: "v1", kind: "Deployment" }],
};

/** Loosely typed JSON for test objects that are poked at by path. */
export type LooseJson = Record<string, any>;

/** A minimal nginx Deployment with one container exposing port 80 (a fresh copy per call). */
export function nginxDeployment(): LooseJson {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", labels: { app: "web" } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "nginx", image: "nginx:1.25", ports: [{ containerPort: 80, protocol: "TCP" }] }] },
      },
    },
  };
}
