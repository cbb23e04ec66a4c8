/**
 * @module The built-in plugin catalog: every plugin that ships with Skiff.
 * Listed explicitly (nothing registers itself on import); the preset and
 * `skiff.yaml` decide which of them run. Third-party plugins are loaded
 * from `<dataDir>/plugins` next to these.
 */
import type { Plugin } from "../core/plugin/types.ts";
import scheduler from "./scheduler/index.ts";
import { fakeRuntimePlugin } from "../runtime-adapters/fake/index.ts";
import { processRuntimePlugin } from "../runtime-adapters/process/index.ts";
import { containerdRuntimePlugin } from "../runtime-adapters/containerd/index.ts";
import { dockerRuntimePlugin } from "../runtime-adapters/docker/index.ts";
import { createNodeLifecyclePlugin } from "./controllers/node-lifecycle/index.ts";
import { nodeAgentPlugin } from "./node-agent/index.ts";
import { controllerPlugins } from "./controllers/index.ts";
import dnsPlugin from "./dns/index.ts";
import { networkProxyPlugin } from "./network-proxy/index.ts";
import { admissionPlugins } from "./admission/index.ts";
import { createServiceAccountPlugin } from "./controllers/serviceaccount/index.ts";
import { createRootCaPublisherPlugin } from "./controllers/root-ca-cert-publisher/index.ts";

export function builtinPlugins(): Plugin<never>[] {
  return [
    scheduler as Plugin<never>,
    ...controllerPlugins(),
    createServiceAccountPlugin() as Plugin<never>,
    createRootCaPublisherPlugin() as Plugin<never>,
    ...admissionPlugins(),
    createNodeLifecyclePlugin() as Plugin<never>,
    dnsPlugin as Plugin<never>,
    networkProxyPlugin() as Plugin<never>,
    nodeAgentPlugin() as Plugin<never>,
    processRuntimePlugin() as Plugin<never>,
    fakeRuntimePlugin() as Plugin<never>,
    containerdRuntimePlugin() as Plugin<never>,
    dockerRuntimePlugin() as Plugin<never>,
  ];
}
