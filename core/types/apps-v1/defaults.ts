/**
 * @module apps/v1 defaulting (kubernetes `pkg/apis/apps/v1/defaults.go`),
 * each followed by the shared pod-template defaults. Idempotent.
 */
import { defaultPodTemplate, defaultPvcSpec } from "../core-v1/pod-defaults.ts";
import { asObj, ensureObj, isNil, objsAt, setDefault, type JsonObject } from "../object-access.ts";

export function defaultDeployment(o: JsonObject): void {
  const spec = ensureObj(o, "spec");
  if (isNil(spec.replicas)) spec.replicas = 1;
  const strategy = ensureObj(spec, "strategy");
  setDefault(strategy, "type", "RollingUpdate");
  if (strategy.type === "RollingUpdate") {
    const ru = ensureObj(strategy, "rollingUpdate");
    if (isNil(ru.maxUnavailable)) ru.maxUnavailable = "25%";
    if (isNil(ru.maxSurge)) ru.maxSurge = "25%";
  }
  if (isNil(spec.revisionHistoryLimit)) spec.revisionHistoryLimit = 10;
  if (isNil(spec.progressDeadlineSeconds)) spec.progressDeadlineSeconds = 600;
  defaultPodTemplate(ensureObj(spec, "template"));
}

export function defaultReplicaSet(o: JsonObject): void {
  const spec = ensureObj(o, "spec");
  if (isNil(spec.replicas)) spec.replicas = 1;
  defaultPodTemplate(ensureObj(spec, "template"));
}

export function defaultDaemonSet(o: JsonObject): void {
  const spec = ensureObj(o, "spec");
  const strategy = ensureObj(spec, "updateStrategy");
  setDefault(strategy, "type", "RollingUpdate");
  if (strategy.type === "RollingUpdate") {
    const ru = ensureObj(strategy, "rollingUpdate");
    if (isNil(ru.maxUnavailable)) ru.maxUnavailable = 1;
    if (isNil(ru.maxSurge)) ru.maxSurge = 0;
  }
  if (isNil(spec.revisionHistoryLimit)) spec.revisionHistoryLimit = 10;
  defaultPodTemplate(ensureObj(spec, "template"));
}

export function defaultStatefulSet(o: JsonObject): void {
  const spec = ensureObj(o, "spec");
  setDefault(spec, "podManagementPolicy", "OrderedReady");
  const strategy = ensureObj(spec, "updateStrategy");
  if (isNil(strategy.type) || strategy.type === "") {
    strategy.type = "RollingUpdate";
    if (isNil(strategy.rollingUpdate)) strategy.rollingUpdate = {};
  }
  const ru = asObj(strategy.rollingUpdate);
  if (strategy.type === "RollingUpdate" && ru && isNil(ru.partition)) ru.partition = 0;
  const retention = ensureObj(spec, "persistentVolumeClaimRetentionPolicy");
  setDefault(retention, "whenDeleted", "Retain");
  setDefault(retention, "whenScaled", "Retain");
  if (isNil(spec.replicas)) spec.replicas = 1;
  if (isNil(spec.revisionHistoryLimit)) spec.revisionHistoryLimit = 10;
  defaultPodTemplate(ensureObj(spec, "template"));
  for (const claim of objsAt(spec, "volumeClaimTemplates")) {
    // Upstream's v1 conversion clears these (kubernetes/kubernetes#87583).
    delete claim.apiVersion;
    delete claim.kind;
    const meta = ensureObj(claim, "metadata");
    if (meta.creationTimestamp === undefined) meta.creationTimestamp = null;
    defaultPvcSpec(ensureObj(claim, "spec"));
    setDefault(ensureObj(claim, "status"), "phase", "Pending");
  }
}
