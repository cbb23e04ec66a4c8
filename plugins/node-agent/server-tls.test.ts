/**
 * @module The agent endpoint over TLS (server.ts) and the API server's side
 * of it (core/server/handlers/agent-endpoint.ts): the endpoint speaks HTTPS
 * only, with a certificate from the cluster CA naming its node; it serves
 * the API server's client certificate and cluster admins, and refuses other
 * callers; the API server refuses a plain-HTTP agent, one with another CA,
 * and one whose certificate names another node.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Logger } from "../../core/log.ts";
import { AgentClientCredentials, agentServerIdentity, localAgentServing } from "../../core/server/auth/node-certificates.ts";
import { type AgentEndpoint, agentFetch } from "../../core/server/handlers/agent-endpoint.ts";
import { ClusterPki } from "../../core/server/pki/cluster-pki.ts";
import { issue } from "../../core/server/pki/x509.ts";
import type { NodeAgent } from "./agent.ts";
import { AgentServer } from "./server.ts";

const fakeAgent = { logs: async () => new Response("hello from the pod\n").body } as unknown as NodeAgent;
const quiet = { info() {}, warn() {}, error() {}, debug() {}, child: () => quiet } as unknown as Logger;

let pki: ClusterPki;
let other: ClusterPki;
let server: AgentServer;
let plain: AgentServer;
let port = 0;
let plainPort = 0;
let apiServer: { ca: string; cert: string; key: string };

const LOGS = "/containerLogs/default/web/c";

/** What the API server builds for a node (agent-endpoint.ts), pointed at `port`. */
function endpoint(o: { node: string; port: number; tls?: { ca: string; cert: string; key: string } }): AgentEndpoint {
  const authority = `127.0.0.1:${o.port}`;
  return {
    nodeName: o.node,
    authority,
    origin: `${o.tls ? "https" : "http"}://${authority}`,
    wsOrigin: `${o.tls ? "wss" : "ws"}://${authority}`,
    headers: {},
    ...(o.tls ? { tls: { ...o.tls, rejectUnauthorized: true as const, checkServerIdentity: agentServerIdentity(o.node) } } : {}),
  };
}

const get = (tls?: { ca: string; cert?: string; key?: string }, path = LOGS) =>
  fetch(`https://127.0.0.1:${port}${path}`, tls ? ({ tls } as RequestInit) : {});

beforeAll(async () => {
  pki = await ClusterPki.open({ dnsNames: [], ipAddresses: [] });
  other = await ClusterPki.open({ dnsNames: [], ipAddresses: [] });
  const serving = await localAgentServing(pki, "n1", { dnsNames: [], ipAddresses: [] });
  server = new AgentServer(fakeAgent, { address: "127.0.0.1", port: 0, tls: { ...serving, ca: pki.ca } }, quiet);
  port = await server.start();
  plain = new AgentServer(fakeAgent, { address: "127.0.0.1", port: 0 }, quiet);
  plainPort = await plain.start();
  apiServer = await new AgentClientCredentials(pki).get();
});

afterAll(async () => {
  await server.stop();
  await plain.stop();
});

describe("the agent endpoint over TLS", () => {
  test("the API server's client certificate and a cluster admin's are served", async () => {
    const r = await get(apiServer);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("hello from the pod\n");
    expect((await get({ ca: pki.ca, cert: pki.admin.cert, key: pki.admin.key })).status).toBe(200);
  });

  test("other callers get 401: no certificate, another node's, one from another CA", async () => {
    expect((await get({ ca: pki.ca })).status).toBe(401);
    const node = await issue(pki.signer, { commonName: "system:node:n2", organizations: ["system:nodes"], usages: ["client"], validityMs: 3600_000 });
    expect((await get({ ca: pki.ca, cert: node.cert, key: node.key! })).status).toBe(401);
    const forged = await issue(other.signer, { commonName: "kube-apiserver-kubelet-client", usages: ["client"], validityMs: 3600_000 });
    expect((await get({ ca: pki.ca, cert: forged.cert, key: forged.key! })).status).toBe(401);
    // Health needs nothing.
    expect(await (await get({ ca: pki.ca }, "/healthz")).text()).toBe("ok");
  });

  test("plain HTTP to the TLS endpoint is refused", async () => {
    await expect(fetch(`http://127.0.0.1:${port}${LOGS}`)).rejects.toThrow();
  });

  test("a client trusting another CA does not connect", async () => {
    await expect(get({ ca: other.ca, cert: apiServer.cert, key: apiServer.key })).rejects.toThrow();
  });
});

describe("the API server's connection to an agent", () => {
  test("reaches its node's agent over HTTPS", async () => {
    const r = await agentFetch(endpoint({ node: "n1", port, tls: apiServer }), LOGS);
    expect(await r.text()).toBe("hello from the pod\n");
  });

  test("refuses an agent whose certificate names another node", async () => {
    await expect(agentFetch(endpoint({ node: "n2", port, tls: apiServer }), LOGS)).rejects.toThrow('the agent\'s certificate is for "system:node:n1", not "system:node:n2"');
  });

  test("refuses an agent whose certificate is from another CA", async () => {
    await expect(agentFetch(endpoint({ node: "n1", port, tls: { ...apiServer, ca: other.ca } }), LOGS)).rejects.toThrow();
  });

  test("refuses a plain-HTTP agent when security is on", async () => {
    await expect(agentFetch(endpoint({ node: "n1", port: plainPort, tls: apiServer }), LOGS)).rejects.toThrow();
    // Without security the same agent is reached over HTTP.
    expect(await (await agentFetch(endpoint({ node: "n1", port: plainPort }), LOGS)).text()).toBe("hello from the pod\n");
  });
});
