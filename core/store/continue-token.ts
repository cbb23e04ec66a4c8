/**
 * @module List continuation tokens: opaque base64url JSON carrying the
 * revision the first page was served at and the last key returned, shaped like
 * kube-apiserver's (`{"v":"meta.k8s.io/v1","rv":N,"start":…}`).
 */
import { errors } from "../api/errors.ts";

export interface ContinueToken {
  revision: number;
  /** The last key returned: [namespace, name]. */
  after: [string, string];
}

export function encodeContinue(t: ContinueToken): string {
  const json = JSON.stringify({ v: "meta.k8s.io/v1", rv: t.revision, start: t.after });
  return Buffer.from(json, "utf8").toString("base64url");
}

export function decodeContinue(token: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw errors.badRequest(`continue key is not valid: ${JSON.stringify(token.slice(0, 64))}`);
  }
  const p = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (
    p === null ||
    typeof p !== "object" ||
    p.v !== "meta.k8s.io/v1" ||
    typeof p.rv !== "number" ||
    !Number.isSafeInteger(p.rv) ||
    p.rv <= 0 ||
    !Array.isArray(p.start) ||
    p.start.length !== 2 ||
    typeof p.start[0] !== "string" ||
    typeof p.start[1] !== "string"
  ) {
    throw errors.badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
  }
  return { revision: p.rv, after: [p.start[0], p.start[1]] };
}
