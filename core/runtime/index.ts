/** @module Runtime contracts: the RuntimeAdapter the node agent drives and the CRI log format. */
export type * from "./adapter.ts";
export { type CriLogRecord, formatCriRecords, type LogStream, MAX_LOG_RECORD, parseCriRecord, parseRfc3339, rfc3339Nano } from "./cri-log.ts";
