/**
 * @module Helpers for framework Status values (the contract is in
 * core/plugin/scheduler-framework.ts). Statuses are plain objects so that
 * out-of-tree plugins can build them without importing anything.
 */
import type { PermitResult, Status, StatusCode, StatusResult } from "../../../core/plugin/scheduler-framework.ts";

export const SUCCESS: Status = Object.freeze({ code: "Success" });
export const SKIP: Status = Object.freeze({ code: "Skip" });

export function status(code: StatusCode, ...reasons: string[]): Status {
  return reasons.length > 0 ? { code, reasons } : { code };
}

export function unschedulable(...reasons: string[]): Status {
  return { code: "Unschedulable", reasons };
}

export function unresolvable(...reasons: string[]): Status {
  return { code: "UnschedulableAndUnresolvable", reasons };
}

export function errorStatus(message: string): Status {
  return { code: "Error", reasons: [message] };
}

/** A status as returned by a plugin: undefined (or Success) is success. */
export function isSuccess(s: StatusResult | PermitResult): boolean {
  return s === undefined || s.code === "Success";
}

export function isRejection(s: Status): boolean {
  return s.code === "Unschedulable" || s.code === "UnschedulableAndUnresolvable";
}

/** The same status, attributed to `plugin` (unless already attributed). */
export function withPlugin(s: Status, plugin: string): Status {
  return s.plugin !== undefined ? s : { ...s, plugin };
}

/** A status from anything a plugin threw. */
export function fromThrown(e: unknown, plugin: string): Status {
  return { code: "Error", reasons: [`${plugin}: ${e instanceof Error ? e.message : String(e)}`], plugin };
}

/** `reasons` joined for messages and logs. */
export function message(s: Status): string {
  return (s.reasons ?? []).join(", ");
}
