/**
 * @module Descriptor table: k8s.io/apimachinery meta/v1 messages (ObjectMeta,
 * LabelSelector, DeleteOptions, Condition, ...).
 *
 * The well-known wrappers (Time, MicroTime, Duration, FieldsV1, IntOrString,
 * Quantity, RawExtension) are not tables: `../special.ts` renders them.
 *
 * ObjectMeta.creationTimestamp is a plain (non-pointer) Time: Go's JSON encoder
 * cannot omit a struct, so kubectl 1.32 prints `"creationTimestamp": null`.
 * Notation: `../descriptors.ts`.
 */

import type { MessageTable } from "../descriptors.ts";

export const META_V1: MessageTable = {
  "meta.v1.ObjectMeta": [
    "1 name string",
    "2 generateName string",
    "3 namespace string",
    "4 selfLink string",
    "5 uid string",
    "6 resourceVersion string",
    "7 generation int64",
    "8 creationTimestamp meta.v1.Time",
    "9 deletionTimestamp meta.v1.Time?",
    "10 deletionGracePeriodSeconds int64?",
    "11 labels string{}",
    "12 annotations string{}",
    "13 ownerReferences meta.v1.OwnerReference[]",
    "14 finalizers string[]",
    "17 managedFields meta.v1.ManagedFieldsEntry[]",
  ].join(", "),
  "meta.v1.ListMeta":
    "1 selfLink string, 2 resourceVersion string, 3 continue string, 4 remainingItemCount int64?",
  "meta.v1.OwnerReference":
    "5 apiVersion string!, 1 kind string!, 3 name string!, 4 uid string!, 6 controller bool?, 7 blockOwnerDeletion bool?",
  "meta.v1.ManagedFieldsEntry":
    "1 manager string, 2 operation string, 3 apiVersion string, 4 time meta.v1.Time?, 6 fieldsType string, 7 fieldsV1 meta.v1.FieldsV1?, 8 subresource string",
  "meta.v1.LabelSelector": "1 matchLabels string{}, 2 matchExpressions meta.v1.LabelSelectorRequirement[]",
  "meta.v1.LabelSelectorRequirement": "1 key string!, 2 operator string!, 3 values string[]",
  "meta.v1.Condition":
    "1 type string!, 2 status string!, 3 observedGeneration int64, 4 lastTransitionTime meta.v1.Time, 5 reason string!, 6 message string!",
  "meta.v1.DeleteOptions": [
    "1 gracePeriodSeconds int64?",
    "2 preconditions meta.v1.Preconditions?",
    "3 orphanDependents bool?",
    "4 propagationPolicy string?",
    "5 dryRun string[]",
    "6 ignoreStoreReadErrorWithClusterBreakingPotential bool?",
  ].join(", "),
  "meta.v1.Preconditions": "1 uid string?, 2 resourceVersion string?",
  "meta.v1.CreateOptions": "1 dryRun string[], 3 fieldManager string, 4 fieldValidation string",
  "meta.v1.Status": [
    "1 metadata meta.v1.ListMeta",
    "2 status string",
    "3 message string",
    "4 reason string",
    "5 details meta.v1.StatusDetails?",
    "6 code int32",
  ].join(", "),
  "meta.v1.StatusDetails":
    "1 name string, 2 group string, 3 kind string, 6 uid string, 4 causes meta.v1.StatusCause[], 5 retryAfterSeconds int32",
  "meta.v1.StatusCause": "1 reason string, 2 message string, 3 field string",
};
