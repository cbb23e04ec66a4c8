/**
 * @module core/v1 ConfigMap, Secret and ServiceAccount: schemas, defaults
 * (Secret type Opaque; `stringData` folded into base64 `data` and dropped,
 * as upstream's conversion does), validation of keys, sizes, immutability
 * and typed secrets, and their table columns.
 */
import { ApiError, type StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { regexError } from "../../api/validation.ts";
import { OBJECT_META } from "../meta-schemas.ts";
import { fieldForbidden, fieldInvalid, fieldRequired, fieldTooLong, key } from "../field-errors.ts";
import { asObj, asStr, isNil, jsonEqual, strAt, type JsonObject } from "../object-access.ts";
import { atomic, bool, bytes, keyed, kindSchema, map, ref, str, strMap } from "../schema-dsl.ts";
import { ageColumn, column, nameColumn } from "../table.ts";
import { CORE, LOCAL_OBJECT_REFERENCE } from "./container-schema.ts";
import { OBJECT_REFERENCE } from "./pod.ts";

const MAX_DATA_BYTES = 1024 * 1024;

export const CONFIG_MAP_SCHEMA = kindSchema(`${CORE}.ConfigMap`, { group: "", version: "v1", kind: "ConfigMap" }, ref(OBJECT_META), {
  binaryData: map(bytes()),
  data: strMap(),
  immutable: bool(),
});

export const SECRET_SCHEMA = kindSchema(`${CORE}.Secret`, { group: "", version: "v1", kind: "Secret" }, ref(OBJECT_META), {
  data: map(bytes()),
  immutable: bool(),
  stringData: strMap(),
  type: str(),
});

export const SERVICE_ACCOUNT_SCHEMA = kindSchema(
  `${CORE}.ServiceAccount`,
  { group: "", version: "v1", kind: "ServiceAccount" },
  ref(OBJECT_META),
  {
    automountServiceAccountToken: bool(),
    imagePullSecrets: atomic(LOCAL_OBJECT_REFERENCE),
    secrets: keyed(OBJECT_REFERENCE, ["name"]),
  },
);

const CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";

/** validation.IsConfigMapKey. */
export function isConfigMapKey(k: string): string[] {
  const errs: string[] = [];
  if (k.length > 253) errs.push("must be no more than 253 characters");
  if (!/^[-._a-zA-Z0-9]+$/.test(k)) errs.push(regexError(CONFIG_KEY_MSG, "[-._a-zA-Z0-9]+", "key.name", "KEY_NAME", "key-name"));
  if (k === ".") errs.push("must not be '.'");
  else if (k === "..") errs.push("must not be '..'");
  else if (k.startsWith("..")) errs.push("must not start with '..'");
  return errs;
}

function utf8Bytes(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** Decoded length of base64 text (the Secret size limit counts bytes, not characters). */
function base64Bytes(s: string): number {
  const clean = s.replace(/[\r\n]/g, "");
  const pad = clean.endsWith("==") ? 2 : clean.endsWith("=") ? 1 : 0;
  return Math.floor((clean.length * 3) / 4) - pad;
}

/** The byte offset Go's base64.StdEncoding reports for malformed input, or -1 when valid. */
export function base64ErrorOffset(s: string): number {
  const clean = s.replace(/[\r\n]/g, "");
  const pad = clean.indexOf("=");
  const body = pad < 0 ? clean : clean.slice(0, pad);
  for (let i = 0; i < body.length; i++) {
    if (!/[A-Za-z0-9+/]/.test(body[i] as string)) return i;
  }
  if (pad >= 0) {
    const tail = clean.slice(pad);
    if (!/^={1,2}$/.test(tail) || clean.length % 4 !== 0) return pad;
    return -1;
  }
  if (clean.length % 4 !== 0) return clean.length - (clean.length % 4);
  return -1;
}

function immutability(o: KubeObject, old: KubeObject | undefined, fields: string[]): StatusCause[] {
  if (!old || old.immutable !== true) return [];
  const causes: StatusCause[] = [];
  if (o.immutable !== true) causes.push(fieldForbidden("immutable", "field is immutable when `immutable` is set"));
  for (const f of fields) {
    if (!jsonEqual(o[f] ?? {}, old[f] ?? {})) causes.push(fieldForbidden(f, "field is immutable when `immutable` is set"));
  }
  return causes;
}

export function validateConfigMap(o: KubeObject, old?: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  let total = 0;
  const data = asObj(o.data) ?? {};
  const binary = asObj(o.binaryData) ?? {};
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) causes.push(fieldInvalid(key("data", k), k, m));
    total += typeof v === "string" ? utf8Bytes(v) : 0;
  }
  for (const [k, v] of Object.entries(binary)) {
    for (const m of isConfigMapKey(k)) causes.push(fieldInvalid(key("binaryData", k), k, m));
    if (k in data) causes.push(fieldInvalid(key("data", k), k, "duplicate of key present in binaryData"));
    total += typeof v === "string" ? base64Bytes(v) : 0;
  }
  if (total > MAX_DATA_BYTES) causes.push(fieldTooLong("", MAX_DATA_BYTES));
  causes.push(...immutability(o, old, ["data", "binaryData"]));
  return causes;
}

function throwBadBase64(o: JsonObject, field: string): void {
  for (const v of Object.values(asObj(o[field]) ?? {})) {
    if (typeof v !== "string") continue;
    const at = base64ErrorOffset(v);
    if (at >= 0) {
      throw new ApiError({ reason: "BadRequest", message: `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${at}` });
    }
  }
}

function base64Of(s: string): string {
  const b = new TextEncoder().encode(s);
  let bin = "";
  for (const x of b) bin += String.fromCharCode(x);
  return btoa(bin);
}

/** SetDefaults_Secret plus the v1 conversion's stringData → data merge. Throws 400 for bad base64. */
export function defaultSecret(o: JsonObject): void {
  throwBadBase64(o, "data");
  if (isNil(o.type) || o.type === "") o.type = "Opaque";
  const stringData = asObj(o.stringData);
  if (stringData) {
    const data = asObj(o.data) ?? {};
    for (const [k, v] of Object.entries(stringData)) if (typeof v === "string") data[k] = base64Of(v);
    if (Object.keys(data).length > 0) o.data = data;
  }
  delete o.stringData;
}

export function validateSecret(o: KubeObject, old?: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const data = asObj(o.data) ?? {};
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) causes.push(fieldInvalid(key("data", k), k, m));
    total += typeof v === "string" ? base64Bytes(v) : 0;
  }
  if (total > MAX_DATA_BYTES) causes.push(fieldTooLong("data", MAX_DATA_BYTES));
  const type = asStr(o.type) ?? "";
  const has = (k: string) => Object.hasOwn(data, k);
  switch (type) {
    case "kubernetes.io/service-account-token":
      if ((o.metadata.annotations?.["kubernetes.io/service-account.name"] ?? "") === "") {
        causes.push(fieldRequired("metadata.annotations[kubernetes.io/service-account.name]"));
      }
      break;
    case "kubernetes.io/dockercfg":
    case "kubernetes.io/dockerconfigjson": {
      const k = type === "kubernetes.io/dockercfg" ? ".dockercfg" : ".dockerconfigjson";
      const raw = asStr(data[k]);
      if (raw === undefined) causes.push(fieldRequired(key("data", k)));
      else {
        try {
          JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(raw), (c) => c.charCodeAt(0))));
        } catch (e) {
          causes.push(fieldInvalid(key("data", k), "<secret contents redacted>", e instanceof Error ? e.message : String(e)));
        }
      }
      break;
    }
    case "kubernetes.io/basic-auth":
      if (!has("username") && !has("password")) causes.push(fieldRequired(key("data", "username")), fieldRequired(key("data", "password")));
      break;
    case "kubernetes.io/ssh-auth":
      if ((asStr(data["ssh-privatekey"]) ?? "") === "") causes.push(fieldRequired(key("data", "ssh-privatekey")));
      break;
    case "kubernetes.io/tls":
      if (!has("tls.crt")) causes.push(fieldRequired(key("data", "tls.crt")));
      if (!has("tls.key")) causes.push(fieldRequired(key("data", "tls.key")));
      break;
  }
  if (old && (asStr(old.type) ?? "") !== type) causes.push(fieldInvalid("type", type, "field is immutable"));
  causes.push(...immutability(o, old, ["data"]));
  return causes;
}

function count(o: KubeObject, ...fields: string[]): number {
  return fields.reduce((n, f) => n + Object.keys(asObj(o[f]) ?? {}).length, 0);
}

export const configMapType: ResourceTypeInit = {
  group: "",
  version: "v1",
  kind: "ConfigMap",
  plural: "configmaps",
  singular: "configmap",
  shortNames: ["cm"],
  namespaced: true,
  tracksGeneration: false,
  schema: CONFIG_MAP_SCHEMA,
  columns: [
    nameColumn(),
    column(
      "Data",
      "string",
      "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
      (o) => count(o, "data", "binaryData"),
    ),
    ageColumn(),
  ],
  strategy: { validate: validateConfigMap },
};

export const secretType: ResourceTypeInit = {
  group: "",
  version: "v1",
  kind: "Secret",
  plural: "secrets",
  singular: "secret",
  namespaced: true,
  tracksGeneration: false,
  schema: SECRET_SCHEMA,
  selectableFields: { type: (o) => strAt(o, "type") },
  columns: [
    nameColumn(),
    column("Type", "string", "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types", (o) => strAt(o, "type")),
    column(
      "Data",
      "string",
      "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
      (o) => count(o, "data"),
    ),
    ageColumn(),
  ],
  strategy: { defaults: (o) => defaultSecret(o as JsonObject), validate: validateSecret },
};

export const serviceAccountType: ResourceTypeInit = {
  group: "",
  version: "v1",
  kind: "ServiceAccount",
  plural: "serviceaccounts",
  singular: "serviceaccount",
  shortNames: ["sa"],
  namespaced: true,
  tracksGeneration: false,
  schema: SERVICE_ACCOUNT_SCHEMA,
  columns: [
    nameColumn(),
    column(
      "Secrets",
      "string",
      "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a \"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The \"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret",
      (o) => (Array.isArray(o.secrets) ? o.secrets.length : 0),
    ),
    ageColumn(),
  ],
};
