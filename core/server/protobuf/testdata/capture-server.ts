/**
 * @module Throwaway recording API server for capturing real kubectl request
 * bodies (used only by `capture.ts`, never by the product or the tests).
 *
 * Listens on 127.0.0.1 only. Answers `/version` with minor "32" (so the gcloud
 * kubectl dispatcher runs kubectl 1.32), legacy discovery for the groups the
 * captured commands touch, a few canned GETs (a node, a pod list, a CronJob to
 * copy from), and records every request body, answering writes with 201.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request kubectl sent. */
export interface RecordedRequest {
  method: string;
  path: string;
  contentType: string;
  body: Uint8Array;
}

/** Knobs a scenario can turn. */
export interface ServerState {
  /** Advertise `pods/eviction` in /api/v1 (drain then evicts instead of deleting). */
  eviction: boolean;
  /** Object served for GET /apis/batch/v1/namespaces/default/cronjobs/<name>. */
  cronJob?: unknown;
}

type Res = { name: string; singularName: string; namespaced: boolean; kind: string; verbs: string[]; group?: string; version?: string };

const RW = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function res(name: string, kind: string, namespaced = true, verbs = RW): Res {
  return { name, singularName: kind.toLowerCase(), namespaced, kind, verbs };
}

function coreResources(state: ServerState): Res[] {
  const list = [
    res("namespaces", "Namespace", false),
    res("configmaps", "ConfigMap"),
    res("secrets", "Secret"),
    res("services", "Service"),
    res("serviceaccounts", "ServiceAccount"),
    { ...res("serviceaccounts/token", "TokenRequest", true, ["create"]), group: "authentication.k8s.io", version: "v1", singularName: "" },
    res("pods", "Pod"),
    res("resourcequotas", "ResourceQuota"),
    res("nodes", "Node", false),
    res("bindings", "Binding", true, ["create"]),
  ];
  if (state.eviction) {
    list.push({ ...res("pods/eviction", "Eviction", true, ["create"]), group: "policy", version: "v1", singularName: "" });
  }
  return list;
}

const GROUPS: Record<string, Res[]> = {
  "apps/v1": [
    res("deployments", "Deployment"),
    res("replicasets", "ReplicaSet"),
    res("daemonsets", "DaemonSet"),
    res("statefulsets", "StatefulSet"),
  ],
  "batch/v1": [res("jobs", "Job"), res("cronjobs", "CronJob")],
  "rbac.authorization.k8s.io/v1": [
    res("roles", "Role"),
    res("rolebindings", "RoleBinding"),
    res("clusterroles", "ClusterRole", false),
    res("clusterrolebindings", "ClusterRoleBinding", false),
  ],
  "policy/v1": [res("poddisruptionbudgets", "PodDisruptionBudget")],
  "networking.k8s.io/v1": [res("ingresses", "Ingress"), res("networkpolicies", "NetworkPolicy")],
  "scheduling.k8s.io/v1": [res("priorityclasses", "PriorityClass", false)],
  "authentication.k8s.io/v1": [res("tokenreviews", "TokenReview", false, ["create"])],
};

function groupList(): unknown {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: Object.keys(GROUPS).map((gv) => {
      const [name, version] = gv.split("/") as [string, string];
      const v = { groupVersion: gv, version };
      return { name, versions: [v], preferredVersion: v };
    }),
  };
}

const NODE = {
  kind: "Node",
  apiVersion: "v1",
  metadata: { name: "n1", uid: "11111111-1111-1111-1111-111111111111", resourceVersion: "5" },
  spec: {},
  status: {},
};

const POD_LIST = {
  kind: "PodList",
  apiVersion: "v1",
  metadata: { resourceVersion: "9" },
  items: [
    {
      kind: "Pod",
      apiVersion: "v1",
      metadata: {
        name: "p1",
        namespace: "default",
        uid: "22222222-2222-2222-2222-222222222222",
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs1", uid: "33333333-3333-3333-3333-333333333333", controller: true },
        ],
      },
      spec: { nodeName: "n1", containers: [{ name: "c", image: "busybox" }] },
      status: { phase: "Running" },
    },
  ],
};

function kindFromPath(path: string): { kind: string; apiVersion: string; name: string } {
  const parts = path.split("?")[0]!.split("/").filter(Boolean);
  const apiVersion = parts[0] === "api" ? "v1" : `${parts[1]}/${parts[2]}`;
  const last = parts[parts.length - 1] ?? "";
  const all = [...coreResources({ eviction: true }), ...Object.values(GROUPS).flat()];
  const match = all.find((r) => r.name === last || r.name.endsWith(`/${last}`));
  return { kind: match?.kind ?? "Status", apiVersion, name: "created" };
}

function send(out: ServerResponse, code: number, body: unknown): void {
  out.statusCode = code;
  out.setHeader("Content-Type", "application/json");
  out.end(JSON.stringify(body));
}

const NOT_FOUND = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", reason: "NotFound", code: 404, message: "not found" };

/** Starts the recorder; `echo` turns a captured body into the 201 response object. */
export async function startRecorder(
  state: ServerState,
  echo: (req: RecordedRequest) => unknown,
): Promise<{ server: Server; port: number; requests: RecordedRequest[] }> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req: IncomingMessage, out: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      const bare = path.split("?")[0] ?? "/";
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        path,
        contentType: req.headers["content-type"] ?? "",
        body: new Uint8Array(Buffer.concat(chunks)),
      };
      if (recorded.method !== "GET") requests.push(recorded);
      if (bare === "/version") return send(out, 200, { major: "1", minor: "32", gitVersion: "v1.32.4", platform: "linux/amd64" });
      if (bare === "/api") return send(out, 200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] });
      if (bare === "/apis") return send(out, 200, groupList());
      if (bare === "/api/v1") return send(out, 200, { kind: "APIResourceList", groupVersion: "v1", resources: coreResources(state) });
      const gv = bare.startsWith("/apis/") ? bare.slice(6) : "";
      if (GROUPS[gv]) return send(out, 200, { kind: "APIResourceList", apiVersion: "v1", groupVersion: gv, resources: GROUPS[gv] });
      if (recorded.method === "GET" && bare === "/api/v1/nodes/n1") return send(out, 200, NODE);
      if (recorded.method === "PATCH" && bare === "/api/v1/nodes/n1") {
        return send(out, 200, { ...NODE, spec: { unschedulable: true } });
      }
      if (recorded.method === "GET" && bare === "/api/v1/pods") return send(out, 200, POD_LIST);
      if (recorded.method === "GET" && bare.startsWith("/apis/batch/v1/namespaces/default/cronjobs/") && state.cronJob) {
        return send(out, 200, state.cronJob);
      }
      if (recorded.method === "POST" || recorded.method === "PUT") {
        let body: unknown;
        try {
          body = echo(recorded);
        } catch {
          const k = kindFromPath(path);
          body = { kind: k.kind, apiVersion: k.apiVersion, metadata: { name: k.name } };
        }
        if (bare.endsWith("/token")) {
          body = { ...(body as object), status: { token: "captured-token", expirationTimestamp: "2030-01-01T00:00:00Z" } };
        }
        return send(out, 201, body);
      }
      if (recorded.method === "DELETE") return send(out, 200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success" });
      return send(out, 404, NOT_FOUND);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, port, requests };
}
