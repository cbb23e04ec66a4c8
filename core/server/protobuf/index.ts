/**
 * @module Decoder for `application/vnd.kubernetes.protobuf` request bodies.
 *
 * kubectl's typed-client commands (`create deployment|secret|…`, `create token`,
 * `drain`) send protobuf and never fall back to JSON. A body is the magic
 * `6b 38 73 00` followed by a runtime.Unknown envelope
 * {typeMeta{apiVersion=1, kind=2}=1, raw=2, contentEncoding=3, contentType=4};
 * `raw` is the k8s.io/api message for (apiVersion, kind). We decode it with our
 * own descriptor tables into exactly the JSON object Go's encoder would emit.
 */

import { errors, isApiError } from "../../api/errors.ts";
import { decodeMessageBytes } from "./decode.ts";
import { messageForKind, messages, SUPPORTED_KINDS, type SupportedKind } from "./registry.ts";
import { utf8String } from "./special.ts";
import { Reader, WIRE_BYTES, WireError } from "./wire.ts";

export { SUPPORTED_KINDS, type SupportedKind } from "./registry.ts";

/** The media type these bodies arrive with. */
export const PROTOBUF_MEDIA_TYPE = "application/vnd.kubernetes.protobuf";

/** The 4-byte prefix of every Kubernetes protobuf body ("k8s\0"). */
export const PROTOBUF_MAGIC: Readonly<Uint8Array> = new Uint8Array([0x6b, 0x38, 0x73, 0x00]);

/** The decoded runtime.Unknown envelope. */
export interface ProtobufEnvelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
  contentType: string;
}

/** Optional defaults for an envelope that omits its apiVersion or kind (upstream copyKindDefaults). */
export interface EnvelopeDefaults {
  apiVersion?: string;
  kind?: string;
}

function badRequest(detail: string): never {
  throw errors.badRequest(`failed to decode protobuf body: ${detail}`);
}

/** Runs `fn`, turning every failure that is not already an ApiError into a 400. */
function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isApiError(e)) throw e;
    if (e instanceof WireError) badRequest(e.message);
    badRequest(e instanceof Error ? e.message : String(e));
  }
}

function readTypeMeta(bytes: Uint8Array): { apiVersion: string; kind: string } {
  let apiVersion = "";
  let kind = "";
  const r = new Reader(bytes);
  while (!r.done()) {
    const tag = r.tag();
    if ((tag.field === 1 || tag.field === 2) && tag.wireType !== WIRE_BYTES) {
      throw new WireError(`wrong wire type ${tag.wireType} for TypeMeta field ${tag.field}`);
    }
    if (tag.field === 1) apiVersion = utf8String(r.bytes());
    else if (tag.field === 2) kind = utf8String(r.bytes());
    else r.skip(tag);
  }
  return { apiVersion, kind };
}

/** Checks the magic and decodes the runtime.Unknown envelope. Throws 400 on malformed bytes. */
export function decodeEnvelope(bytes: Uint8Array): ProtobufEnvelope {
  return guarded(() => {
    if (bytes.length < PROTOBUF_MAGIC.length || PROTOBUF_MAGIC.some((b, i) => bytes[i] !== b)) {
      badRequest("the body does not start with the protobuf magic 6b 38 73 00");
    }
    if (bytes.length === PROTOBUF_MAGIC.length) badRequest("empty body");
    const env: ProtobufEnvelope = {
      apiVersion: "",
      kind: "",
      raw: new Uint8Array(0),
      contentEncoding: "",
      contentType: "",
    };
    const r = new Reader(bytes, PROTOBUF_MAGIC.length);
    while (!r.done()) {
      const tag = r.tag();
      if (tag.field >= 1 && tag.field <= 4 && tag.wireType !== WIRE_BYTES) {
        throw new WireError(`wrong wire type ${tag.wireType} for Unknown field ${tag.field}`);
      }
      switch (tag.field) {
        case 1:
          Object.assign(env, readTypeMeta(r.bytes()));
          break;
        case 2:
          env.raw = r.bytes();
          break;
        case 3:
          env.contentEncoding = utf8String(r.bytes());
          break;
        case 4:
          env.contentType = utf8String(r.bytes());
          break;
        default:
          r.skip(tag);
      }
    }
    return env;
  });
}

/**
 * Decodes a Kubernetes protobuf request body into the JSON object the same
 * client would have sent as JSON, with `kind` and `apiVersion` from the envelope.
 *
 * Throws `errors.unsupportedMediaType` (415) for an (apiVersion, kind) without a
 * table and `errors.badRequest` (400) for malformed bytes — never anything else.
 */
export function decodeKubernetesProtobuf(bytes: Uint8Array, defaults: EnvelopeDefaults = {}): unknown {
  const env = decodeEnvelope(bytes);
  const apiVersion = env.apiVersion || defaults.apiVersion || "";
  const kind = env.kind || defaults.kind || "";
  if (!kind) badRequest("the envelope has no kind");
  if (!apiVersion) badRequest(`the envelope for kind ${JSON.stringify(kind)} has no apiVersion`);
  const message = messageForKind(apiVersion, kind);
  if (!message) {
    throw errors.unsupportedMediaType(`${PROTOBUF_MEDIA_TYPE} for ${apiVersion}, Kind=${kind}`, [
      "application/json",
      "application/yaml",
    ]);
  }
  const body = guarded(() => decodeMessageBytes(env.raw, message));
  return { kind, apiVersion, ...body };
}

/** Options for `decodeMessage`. */
export interface DecodeMessageOptions {
  /** Receives `Message#field` for every field the tables do not know (and skipped). */
  unknownFields?: string[];
}

/**
 * Decodes `bytes` (no magic, no envelope) as the table message `messageName`
 * (e.g. "core.v1.PodSpec"). Throws 400 on malformed bytes or an unknown name.
 */
export function decodeMessage(
  bytes: Uint8Array,
  messageName: string,
  options: DecodeMessageOptions = {},
): Record<string, unknown> {
  if (!messages().has(messageName)) badRequest(`no descriptor for message ${JSON.stringify(messageName)}`);
  return guarded(() => decodeMessageBytes(bytes, messageName, options.unknownFields));
}

/** The (group, version, kind) of the resource a request targets, as the server's registry knows it. */
export interface TargetType {
  group: string;
  version: string;
  kind: string;
}

/**
 * Adapter for the server's body decoder hook: like `decodeKubernetesProtobuf`,
 * with the target resource's GVK as the default for an envelope that omits it
 * (upstream's copyKindDefaults). An explicit envelope GVK always wins, so
 * subresource bodies (Eviction, TokenRequest, DeleteOptions) decode as sent.
 */
export function decodeProtobufBody(bytes: Uint8Array, type?: TargetType): unknown {
  const defaults = type ? { apiVersion: type.group ? `${type.group}/${type.version}` : type.version, kind: type.kind } : {};
  return decodeKubernetesProtobuf(bytes, defaults);
}

/** The top-level message name for (apiVersion, kind), if supported. */
export function supportedMessageFor(apiVersion: string, kind: string): string | undefined {
  return messageForKind(apiVersion, kind);
}

/** The supported kinds as `apiVersion/Kind` strings, for diagnostics and docs. */
export function supportedKindNames(): string[] {
  return SUPPORTED_KINDS.map((k: SupportedKind) => `${k.apiVersion}, Kind=${k.kind}`);
}
