/**
 * @module Plugin identities (issue 10, least privilege): who a plugin's
 * `ctx.client` acts as inside the server process, the way
 * kube-controller-manager's `--use-service-account-credentials` gives each
 * controller its own ServiceAccount. The kernel builds one in-process client
 * per identity (`PluginHostOptions.clientFor`); the request gate then
 * authorizes that client's requests with RBAC and the Node authorizer, and
 * admission (NodeRestriction) and the audit log see the plugin's user.
 */
import type { AuthenticationResult, UserInfo } from "../server/auth/types.ts";
import { Groups } from "../server/auth/types.ts";
import type { Logger } from "../log.ts";
import type { PluginIdentity, PluginIdentityEnv, PluginManifest } from "./types.ts";

/** The authenticator name plugin identities carry (audit annotation `skiff.io/authenticator`). */
export const PLUGIN_AUTHENTICATOR = "plugin";

/** `system:serviceaccount:<ns>:<name>` in `system:serviceaccounts` and `system:serviceaccounts:<ns>`, as a ServiceAccount token authenticates. */
export function serviceAccountIdentity(namespace: string, name: string): PluginIdentity {
  return { user: `system:serviceaccount:${namespace}:${name}`, groups: [Groups.serviceAccounts, `${Groups.serviceAccounts}:${namespace}`] };
}

/** A kubelet's identity: `system:node:<name>` in `system:nodes`. */
export function nodeIdentity(nodeName: string): PluginIdentity {
  return { user: `system:node:${nodeName}`, groups: [Groups.nodes] };
}

/** The user a plugin identity authenticates as: its groups plus `system:authenticated`, once each. */
export function userInfoOf(identity: PluginIdentity): UserInfo {
  const groups = [...new Set([...(identity.groups ?? []), Groups.authenticated])];
  return { name: identity.user, groups };
}

/** What the host resolves a manifest's `identity` to: an identity, the kernel's (`"kernel"`), or nothing declared (`undefined`). */
export function resolveIdentity(manifest: PluginManifest, env: PluginIdentityEnv): PluginIdentity | "kernel" | undefined {
  const spec = manifest.identity;
  if (spec === undefined || spec === "kernel") return spec;
  const id = typeof spec === "function" ? spec(env) : spec;
  if (id !== "kernel" && (typeof id?.user !== "string" || id.user === "")) {
    throw new Error(`plugin "${manifest.name}": identity must name a user`);
  }
  return id;
}

/** A stable key for an identity (one client per identity). */
export function identityKey(identity: PluginIdentity): string {
  return `${identity.user}|${[...(identity.groups ?? [])].sort().join(",")}`;
}

type FetchFn = (req: Request) => Response | Promise<Response>;

/** How the in-process client marks a plugin's requests (the gate trusts the mark, as it trusts the kernel's). */
export function authenticationOf(identity: PluginIdentity): AuthenticationResult {
  return { user: userInfoOf(identity), authenticator: PLUGIN_AUTHENTICATOR };
}

/**
 * Wraps a plugin identity's in-process transport: a request the authorizer
 * refuses (a 403 whose message is the gate's `User "…" cannot …`) is logged
 * as a warning naming the plugin and its user, so a missing permission shows
 * without reading the audit log. Other 403s (a terminating namespace,
 * NodeRestriction) are the plugin's to handle and are not logged here.
 */
export function loggingForbidden(fetch: FetchFn, o: { plugin: string; identity: PluginIdentity; log: Logger }): FetchFn {
  const denial = `User ${JSON.stringify(o.identity.user)} cannot `;
  return async (req) => {
    const res = await fetch(req);
    if (res.status !== 403) return res;
    const message = ((await res
      .clone()
      .json()
      .catch(() => undefined)) as { message?: unknown } | undefined)?.message;
    if (typeof message === "string" && message.includes(denial)) {
      o.log.warn({ plugin: o.plugin, user: o.identity.user, method: req.method, url: pathOf(req.url), reason: message }, "plugin request forbidden");
    }
    return res;
  };
}

function pathOf(url: string): string {
  const i = url.indexOf("/", url.indexOf("//") + 2);
  return i < 0 ? "/" : url.slice(i);
}
