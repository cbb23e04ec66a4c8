/**
 * @module The core/v1 Namespace kind: cluster-scoped, DNS-1123 label names,
 * the `kubernetes.io/metadata.name` label, phase Active and the
 * `kubernetes` finalizer on create; spec.finalizers change only through the
 * `finalize` subresource (not modelled by the registry; see README).
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { isQualifiedName } from "../../api/validation.ts";
import { OBJECT_META } from "../meta-schemas.ts";
import { fieldInvalid, index } from "../field-errors.ts";
import { asArr, asObj, cloneJson, ensureObj, setDefault, strAt, type JsonObject } from "../object-access.ts";
import { atomic, keyed, kindSchema, obj, ref, str, time } from "../schema-dsl.ts";
import { ageColumn, column, nameColumn } from "../table.ts";
import { CORE } from "./container-schema.ts";

export const FINALIZER_KUBERNETES = "kubernetes";
export const METADATA_NAME_LABEL = "kubernetes.io/metadata.name";

const NAMESPACE_CONDITION = obj(
  `${CORE}.NamespaceCondition`,
  { lastTransitionTime: time(), message: str(), reason: str(), status: str(), type: str() },
  { required: ["type", "status"] },
);

export const NAMESPACE_SCHEMA = kindSchema(`${CORE}.Namespace`, { group: "", version: "v1", kind: "Namespace" }, ref(OBJECT_META), {
  spec: obj(`${CORE}.NamespaceSpec`, { finalizers: atomic(str()) }),
  status: obj(`${CORE}.NamespaceStatus`, { conditions: keyed(NAMESPACE_CONDITION, ["type"]), phase: str() }),
});

/** SetDefaults_Namespace (the metadata.name label) and SetDefaults_NamespaceStatus. */
export function defaultNamespace(o: KubeObject): void {
  const name = o.metadata.name ?? "";
  if (name !== "") o.metadata.labels = { ...(o.metadata.labels ?? {}), [METADATA_NAME_LABEL]: name };
  const status = asObj(o.status);
  if (status) setDefault(status, "phase", "Active");
}

function prepareNamespaceForCreate(o: KubeObject): void {
  o.status = { phase: "Active" };
  const spec = ensureObj(o as JsonObject, "spec");
  const finalizers = asArr(spec.finalizers).map(String);
  if (!finalizers.includes(FINALIZER_KUBERNETES)) spec.finalizers = [...finalizers, FINALIZER_KUBERNETES];
}

export function validateNamespace(o: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  asArr(asObj(o.spec)?.finalizers).forEach((f, i) => {
    const s = String(f);
    if (s === FINALIZER_KUBERNETES) return;
    if (!s.includes("/")) {
      causes.push(fieldInvalid(index("spec.finalizers", i), s, "name is neither a standard finalizer name nor is it fully qualified"));
      return;
    }
    for (const m of isQualifiedName(s)) causes.push(fieldInvalid(index("spec.finalizers", i), s, m));
  });
  return causes;
}

export const namespaceType: ResourceTypeInit = {
  group: "",
  version: "v1",
  kind: "Namespace",
  plural: "namespaces",
  singular: "namespace",
  shortNames: ["ns"],
  namespaced: false,
  tracksGeneration: false,
  nameValidation: "label",
  schema: NAMESPACE_SCHEMA,
  subresources: { status: true },
  selectableFields: {
    "status.phase": (o) => strAt(o, "status", "phase"),
    name: (o) => o.metadata.name ?? "",
  },
  columns: [nameColumn(), column("Status", "string", "The status of the namespace", (o) => strAt(o, "status", "phase")), ageColumn()],
  strategy: {
    defaults: defaultNamespace,
    validate: validateNamespace,
    prepareForCreate: prepareNamespaceForCreate,
    prepareForUpdate(o, old) {
      const spec = ensureObj(o as JsonObject, "spec");
      const oldFinalizers = asObj(old.spec)?.finalizers;
      if (oldFinalizers === undefined) delete spec.finalizers;
      else spec.finalizers = cloneJson(oldFinalizers);
    },
  },
};
