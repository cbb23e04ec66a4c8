/**
 * @module apps/v1 validation (kubernetes `pkg/apis/apps/validation`): selector
 * required and matching the template labels, template restrictions,
 * replica and revision counts, update strategies, immutable selectors.
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import {
  child,
  fieldForbidden,
  fieldInvalid,
  fieldInvalidRendered,
  fieldNotSupported,
  fieldRequired,
  goStringMap,
  nonNegative,
} from "../field-errors.ts";
import { asNum, asObj, asStr, getPath, isNil, jsonEqual, type JsonObject } from "../object-access.ts";
import { compileSelector, goLabelSelector, selectorMatches } from "../selector-match.ts";
import {
  intOrPercentValue,
  validateLabelSelector,
  validateNotMoreThan100Percent,
  validatePositiveIntOrPercent,
} from "../core-v1/common-validation.ts";
import { validatePodTemplate } from "../core-v1/pod-validation.ts";

type Kind = "deployment" | "replicaset" | "daemonset" | "statefulset";

const KIND_WORD: Record<Kind, string> = {
  deployment: "deployment",
  replicaset: "deployment",
  daemonset: "daemonset",
  statefulset: "statefulset",
};

const TEMPLATE_KIND: Record<Kind, string> = {
  deployment: "ReplicaSet",
  replicaset: "ReplicaSet",
  daemonset: "DaemonSet",
  statefulset: "StatefulSet",
};

/** Selector presence and syntax, the selector/template-labels match, and template rules shared by all workloads. */
function validateSelectorAndTemplate(spec: JsonObject, kind: Kind): StatusCause[] {
  const causes: StatusCause[] = [];
  const sel = spec.selector;
  const selPath = "spec.selector";
  if (isNil(sel)) causes.push(fieldRequired(selPath));
  else {
    causes.push(...validateLabelSelector(sel, selPath));
    const s = asObj(sel) ?? {};
    const n = Object.keys(asObj(s.matchLabels) ?? {}).length + (Array.isArray(s.matchExpressions) ? s.matchExpressions.length : 0);
    if (n === 0) causes.push(fieldInvalidRendered(selPath, goLabelSelector(sel), `empty selector is invalid for ${KIND_WORD[kind]}`));
  }
  const compiled = compileSelector(sel);
  const template = asObj(spec.template);
  if (!compiled) {
    causes.push(fieldInvalidRendered(selPath, goLabelSelector(sel), kind === "statefulset" ? "" : "invalid label selector"));
    return causes;
  }
  if (!template) {
    causes.push(fieldRequired("spec.template"));
    return causes;
  }
  const labels = getPath(template, "metadata", "labels");
  if (compiled.kind !== "everything" && !selectorMatches(compiled, labels)) {
    causes.push(
      fieldInvalidRendered("spec.template.metadata.labels", goStringMap(asObj(labels)), "`selector` does not match template `labels`"),
    );
  }
  causes.push(...validatePodTemplate(template, "spec.template"));
  const restart = asStr(getPath(template, "spec", "restartPolicy")) ?? "";
  if (restart !== "Always") causes.push(fieldNotSupported("spec.template.spec.restartPolicy", restart, ["Always"]));
  const ads = getPath(template, "spec", "activeDeadlineSeconds");
  if (!isNil(ads)) {
    const msg = `activeDeadlineSeconds in ${TEMPLATE_KIND[kind]} is not Supported`;
    if (kind === "daemonset") causes.push(fieldInvalid("spec.template.spec.activeDeadlineSeconds", ads, msg));
    else causes.push(fieldForbidden("spec.template.spec.activeDeadlineSeconds", msg));
  }
  return causes;
}

function validateRollingUpdate(ru: JsonObject, path: string, bothZeroMsg: string): StatusCause[] {
  const unavailable = child(path, "maxUnavailable");
  const causes = [
    ...validatePositiveIntOrPercent(ru.maxUnavailable, unavailable),
    ...validatePositiveIntOrPercent(ru.maxSurge, child(path, "maxSurge")),
  ];
  if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
    causes.push(fieldInvalid(unavailable, ru.maxUnavailable, bothZeroMsg));
  }
  causes.push(...validateNotMoreThan100Percent(ru.maxUnavailable, unavailable));
  return causes;
}

function validateRevisionHistory(spec: JsonObject): StatusCause[] {
  return nonNegative("spec.revisionHistoryLimit", spec.revisionHistoryLimit);
}

function selectorImmutable(o: KubeObject, old: KubeObject | undefined): StatusCause[] {
  if (!old) return [];
  const sel = getPath(o, "spec", "selector");
  if (jsonEqual(sel, getPath(old, "spec", "selector"))) return [];
  return [fieldInvalidRendered("spec.selector", goLabelSelector(sel), "field is immutable")];
}

export function validateDeployment(o: KubeObject, old?: KubeObject): StatusCause[] {
  const spec = asObj(o.spec) ?? {};
  const causes = [...nonNegative("spec.replicas", spec.replicas), ...validateSelectorAndTemplate(spec, "deployment")];
  const strategy = asObj(spec.strategy) ?? {};
  const type = asStr(strategy.type) ?? "";
  if (type === "Recreate") {
    if (!isNil(strategy.rollingUpdate)) {
      causes.push(fieldForbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"));
    }
  } else if (type === "RollingUpdate") {
    const ru = asObj(strategy.rollingUpdate);
    if (!ru) causes.push(fieldRequired("spec.strategy.rollingUpdate", "this should be defaulted and never be nil"));
    else causes.push(...validateRollingUpdate(ru, "spec.strategy.rollingUpdate", "may not be 0 when `maxSurge` is 0"));
  } else {
    causes.push(fieldNotSupported("spec.strategy.type", type, ["Recreate", "RollingUpdate"]));
  }
  causes.push(...nonNegative("spec.minReadySeconds", spec.minReadySeconds));
  causes.push(...validateRevisionHistory(spec));
  const pds = asNum(spec.progressDeadlineSeconds);
  if (pds !== undefined) {
    causes.push(...nonNegative("spec.progressDeadlineSeconds", pds));
    if (pds <= (asNum(spec.minReadySeconds) ?? 0)) {
      causes.push(fieldInvalid("spec.progressDeadlineSeconds", pds, "must be greater than minReadySeconds"));
    }
  }
  causes.push(...selectorImmutable(o, old));
  return causes;
}

export function validateReplicaSet(o: KubeObject, old?: KubeObject): StatusCause[] {
  const spec = asObj(o.spec) ?? {};
  return [
    ...nonNegative("spec.replicas", spec.replicas),
    ...nonNegative("spec.minReadySeconds", spec.minReadySeconds),
    ...validateSelectorAndTemplate(spec, "replicaset"),
    ...selectorImmutable(o, old),
  ];
}

export function validateDaemonSet(o: KubeObject, old?: KubeObject): StatusCause[] {
  const spec = asObj(o.spec) ?? {};
  const causes = validateSelectorAndTemplate(spec, "daemonset");
  causes.push(...nonNegative("spec.minReadySeconds", spec.minReadySeconds));
  const strategy = asObj(spec.updateStrategy) ?? {};
  const type = asStr(strategy.type) ?? "";
  if (type === "RollingUpdate") {
    const ru = asObj(strategy.rollingUpdate);
    if (!ru) causes.push(fieldRequired("spec.updateStrategy.rollingUpdate"));
    else causes.push(...validateRollingUpdate(ru, "spec.updateStrategy.rollingUpdate", "cannot be 0 when maxSurge is 0"));
  } else if (type !== "OnDelete") {
    causes.push(fieldNotSupported("spec.updateStrategy.type", type, ["RollingUpdate", "OnDelete"]));
  }
  causes.push(...validateRevisionHistory(spec));
  causes.push(...selectorImmutable(o, old));
  return causes;
}

const STS_MUTABLE = ["replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];

export function validateStatefulSet(o: KubeObject, old?: KubeObject): StatusCause[] {
  const spec = asObj(o.spec) ?? {};
  const causes = [...nonNegative("spec.replicas", spec.replicas), ...validateSelectorAndTemplate(spec, "statefulset")];
  const policy = asStr(spec.podManagementPolicy) ?? "";
  if (policy !== "OrderedReady" && policy !== "Parallel") {
    causes.push(fieldInvalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'"));
  }
  const strategy = asObj(spec.updateStrategy) ?? {};
  const type = asStr(strategy.type) ?? "";
  if (type === "OnDelete" && !isNil(strategy.rollingUpdate)) {
    causes.push(fieldInvalid("spec.updateStrategy.rollingUpdate", strategy.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
  } else if (type === "RollingUpdate") {
    causes.push(...nonNegative("spec.updateStrategy.rollingUpdate.partition", getPath(strategy, "rollingUpdate", "partition")));
  } else if (type !== "OnDelete") {
    causes.push(fieldInvalid("spec.updateStrategy", type, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const retention = asObj(spec.persistentVolumeClaimRetentionPolicy);
  for (const f of ["whenDeleted", "whenScaled"]) {
    const v = retention?.[f];
    if (!isNil(v) && v !== "Retain" && v !== "Delete") {
      causes.push(fieldNotSupported(`spec.persistentVolumeClaimRetentionPolicy.${f}`, v, ["Retain", "Delete"]));
    }
  }
  causes.push(...nonNegative("spec.minReadySeconds", spec.minReadySeconds));
  causes.push(...nonNegative("spec.ordinals.start", getPath(spec, "ordinals", "start")));
  causes.push(...validateRevisionHistory(spec));
  if (old) {
    const strip = (s: unknown) => {
      const c = { ...(asObj(s) ?? {}) };
      for (const k of STS_MUTABLE) delete c[k];
      return c;
    };
    if (!jsonEqual(strip(spec), strip(old.spec))) {
      causes.push(
        fieldForbidden(
          "spec",
          "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ),
      );
    }
  }
  return causes;
}
