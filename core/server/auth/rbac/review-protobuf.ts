/**
 * @module Protobuf bodies of the authorization.k8s.io/v1 reviews. kubectl's
 * typed client (`kubectl auth can-i`) sends
 * `application/vnd.kubernetes.protobuf` and never falls back to JSON. The
 * messages are small, so they are decoded here with the wire reader into the
 * JSON object Go would emit (empty strings omitted, present sub-messages
 * kept), following `k8s.io/api/authorization/v1/generated.proto`. Status and
 * selector attributes are skipped: a review's answer never reads them.
 */
import { errors, isApiError } from "../../../api/errors.ts";
import { decodeEnvelope } from "../../protobuf/index.ts";
import { utf8String } from "../../protobuf/special.ts";
import { Reader, type Tag, WIRE_BYTES, WireError } from "../../protobuf/wire.ts";

type Json = Record<string, unknown>;
/** A message: field number → [json name, string | repeated string | nested message | map of ExtraValue]. */
type Spec = Record<number, [string, "string" | "string[]" | "extra" | Spec]>;

const OBJECT_META: Spec = { 1: ["name", "string"], 2: ["generateName", "string"], 3: ["namespace", "string"] };
const RESOURCE_ATTRIBUTES: Spec = {
  1: ["namespace", "string"],
  2: ["verb", "string"],
  3: ["group", "string"],
  4: ["version", "string"],
  5: ["resource", "string"],
  6: ["subresource", "string"],
  7: ["name", "string"],
};
const NON_RESOURCE_ATTRIBUTES: Spec = { 1: ["path", "string"], 2: ["verb", "string"] };
const SSAR_SPEC: Spec = { 1: ["resourceAttributes", RESOURCE_ATTRIBUTES], 2: ["nonResourceAttributes", NON_RESOURCE_ATTRIBUTES] };
const SAR_SPEC: Spec = { ...SSAR_SPEC, 3: ["user", "string"], 4: ["groups", "string[]"], 5: ["extra", "extra"], 6: ["uid", "string"] };
const SSRR_SPEC: Spec = { 1: ["namespace", "string"] };

const review = (spec: Spec): Spec => ({ 1: ["metadata", OBJECT_META], 2: ["spec", spec] });

const KINDS: Record<string, Spec> = {
  SelfSubjectAccessReview: review(SSAR_SPEC),
  SubjectAccessReview: review(SAR_SPEC),
  LocalSubjectAccessReview: review(SAR_SPEC),
  SelfSubjectRulesReview: review(SSRR_SPEC),
};

function expectBytes(tag: Tag): void {
  if (tag.wireType !== WIRE_BYTES) throw new WireError(`wrong wire type ${tag.wireType} for field ${tag.field}`);
}

/** ExtraValue (`1 items repeated string`) map entries: `1 key`, `2 value`. */
function readExtraEntry(bytes: Uint8Array, into: Record<string, string[]>): void {
  let key = "";
  const items: string[] = [];
  const r = new Reader(bytes);
  while (!r.done()) {
    const tag = r.tag();
    if (tag.field === 1) (expectBytes(tag), (key = utf8String(r.bytes())));
    else if (tag.field === 2) {
      expectBytes(tag);
      const v = new Reader(r.bytes());
      while (!v.done()) {
        const t = v.tag();
        if (t.field === 1) (expectBytes(t), items.push(utf8String(v.bytes())));
        else v.skip(t);
      }
    } else r.skip(tag);
  }
  into[key] = items;
}

function readMessage(bytes: Uint8Array, spec: Spec): Json {
  const out: Json = {};
  const r = new Reader(bytes);
  while (!r.done()) {
    const tag = r.tag();
    const field = spec[tag.field];
    if (!field) {
      r.skip(tag);
      continue;
    }
    expectBytes(tag);
    const [name, type] = field;
    const raw = r.bytes();
    if (type === "string") {
      const v = utf8String(raw);
      if (v !== "") out[name] = v;
      else delete out[name];
    } else if (type === "string[]") ((out[name] ??= []) as string[]).push(utf8String(raw));
    else if (type === "extra") readExtraEntry(raw, (out[name] ??= {}) as Record<string, string[]>);
    else out[name] = { ...((out[name] as Json | undefined) ?? {}), ...readMessage(raw, type) };
  }
  return out;
}

/** Decodes a review sent as protobuf into its JSON form; 415 for another kind, 400 for bad bytes. */
export function decodeReviewProtobuf(bytes: Uint8Array, want: { apiVersion: string; kind: string }): Json {
  const env = decodeEnvelope(bytes);
  const apiVersion = env.apiVersion || want.apiVersion;
  const kind = env.kind || want.kind;
  const spec = apiVersion === "authorization.k8s.io/v1" ? KINDS[kind] : undefined;
  if (!spec) throw errors.unsupportedMediaType(`application/vnd.kubernetes.protobuf for ${apiVersion}, Kind=${kind}`, ["application/json", "application/yaml"]);
  try {
    return { kind, apiVersion, ...readMessage(env.raw, spec) };
  } catch (e) {
    if (isApiError(e)) throw e;
    throw errors.badRequest(`failed to decode protobuf body: ${e instanceof Error ? e.message : String(e)}`);
  }
}
