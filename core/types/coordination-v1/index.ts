/**
 * @module coordination.k8s.io/v1 Lease: schema (v1.32, including the alpha
 * coordinated-leader-election fields), upstream's spec validation and the
 * NAME HOLDER AGE columns. Leases carry no generation and no status.
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { OBJECT_META } from "../meta-schemas.ts";
import { fieldForbidden, fieldInvalid, fieldNotSupported } from "../field-errors.ts";
import { asNum, asObj, asStr, isNil, strAt } from "../object-access.ts";
import { int32, kindSchema, microTime, obj, ref, str } from "../schema-dsl.ts";
import { ageColumn, column, nameColumn } from "../table.ts";

const COORDINATION = "io.k8s.api.coordination.v1";

export const LEASE_SCHEMA = kindSchema(`${COORDINATION}.Lease`, { group: "coordination.k8s.io", version: "v1", kind: "Lease" }, ref(OBJECT_META), {
  spec: obj(`${COORDINATION}.LeaseSpec`, {
    acquireTime: microTime(),
    holderIdentity: str(),
    leaseDurationSeconds: int32(),
    leaseTransitions: int32(),
    preferredHolder: str(),
    renewTime: microTime(),
    strategy: str(),
  }),
});

const STRATEGIES = ["OldestEmulationVersion"];

/** ValidateLeaseSpec. */
export function validateLease(o: KubeObject): StatusCause[] {
  const spec = asObj(o.spec) ?? {};
  const causes: StatusCause[] = [];
  const duration = asNum(spec.leaseDurationSeconds);
  if (duration !== undefined && duration <= 0) causes.push(fieldInvalid("spec.leaseDurationSeconds", duration, "must be greater than 0"));
  const transitions = asNum(spec.leaseTransitions);
  if (transitions !== undefined && transitions < 0) causes.push(fieldInvalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0"));
  const strategy = asStr(spec.strategy);
  if (strategy !== undefined && strategy !== "" && !STRATEGIES.includes(strategy)) {
    causes.push(fieldNotSupported("spec.strategy", strategy, STRATEGIES));
  }
  if (!isNil(spec.preferredHolder) && spec.preferredHolder !== "" && (strategy === undefined || strategy === "")) {
    causes.push(fieldForbidden("spec.preferredHolder", "may only be specified if `strategy` is defined"));
  }
  return causes;
}

export const leaseType: ResourceTypeInit = {
  group: "coordination.k8s.io",
  version: "v1",
  kind: "Lease",
  plural: "leases",
  singular: "lease",
  namespaced: true,
  tracksGeneration: false,
  schema: LEASE_SCHEMA,
  columns: [
    nameColumn(),
    column("Holder", "string", "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.", (o) =>
      strAt(o, "spec", "holderIdentity"),
    ),
    ageColumn(),
  ],
  strategy: { validate: validateLease },
};

/** Every coordination.k8s.io/v1 kind. */
export function coordinationV1Types(): ResourceTypeInit[] {
  return [leaseType];
}
