/**
 * @module Structured logging (pino): JSON lines on stderr, a child logger per
 * component (`log.child({ component: "scheduler" })`), a constant message plus
 * key/value fields. Level from `SKIFF_LOG_LEVEL` (default `info`).
 */
import pino from "pino";

export type Logger = pino.Logger;

let root: Logger | undefined;

/** The process-wide root logger. */
export function rootLogger(): Logger {
  root ??= pino(
    { level: process.env.SKIFF_LOG_LEVEL ?? "info", base: undefined, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: 2, sync: true }),
  );
  return root;
}

/** A logger for one component. */
export function logger(component: string): Logger {
  return rootLogger().child({ component });
}
