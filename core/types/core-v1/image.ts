/**
 * @module Container image references: just enough of the Docker reference
 * grammar (distribution/reference) to find the tag, which decides the default
 * imagePullPolicy exactly as upstream's `parsers.ParseImageName` does.
 */

const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(`^(?:(${DOMAIN})/)?(${COMPONENT}(?:/${COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`);

export interface ImageRef {
  tag: string;
  digest: string;
}

/**
 * Tag and digest of an image reference; `tag` is `latest` when neither is
 * given. Returns undefined for references upstream cannot parse.
 */
export function parseImage(image: string): ImageRef | undefined {
  if (image.length === 0 || image.length > 255 + 200) return undefined;
  const m = REFERENCE.exec(image);
  if (!m) return undefined;
  const tag = m[3] ?? "";
  const digest = m[4] ?? "";
  if (tag === "" && digest === "") return { tag: "latest", digest: "" };
  return { tag, digest };
}

/** SetDefaults_Container's rule: `Always` for `:latest` (or no tag), otherwise `IfNotPresent`. */
export function defaultPullPolicy(image: unknown): "Always" | "IfNotPresent" {
  const ref = typeof image === "string" ? parseImage(image) : undefined;
  return ref?.tag === "latest" ? "Always" : "IfNotPresent";
}
