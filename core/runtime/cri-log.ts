/**
 * @module The CRI container log format, shared by the runtimes that write it
 * and the node agent that reads it: one record per line,
 * `<RFC3339Nano time> <stdout|stderr> <P|F> <text>`, where `P` marks a
 * partial line (the text continues in the next record of the same stream)
 * and `F` a full one. Runtimes split lines longer than `MAX_LOG_RECORD`.
 */

export type LogStream = "stdout" | "stderr";

export interface CriLogRecord {
  /** The record's time exactly as written (RFC 3339 with up to nanoseconds). */
  time: string;
  /** Unix ms parsed from `time` (NaN when malformed). */
  ms: number;
  stream: LogStream;
  partial: boolean;
  text: string;
}

/** Longest text in one record; longer lines are split into partial records (as containerd does, 16 KiB). */
export const MAX_LOG_RECORD = 16 * 1024;

/** RFC 3339 with nanoseconds, UTC: `2024-05-01T10:20:30.123000000Z`. */
export function rfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2024-05-01T10:20:30.123Z
  return `${iso.slice(0, 23)}000000Z`;
}

/**
 * The records for `text` written to `stream` at `ms`: one per line, the last
 * one partial when `text` does not end with a newline, long lines split.
 */
export function formatCriRecords(ms: number, stream: LogStream, text: string): string {
  if (text === "") return "";
  const time = rfc3339Nano(ms);
  let out = "";
  const lines = text.split("\n");
  const endsWithNewline = text.endsWith("\n");
  if (endsWithNewline) lines.pop();
  lines.forEach((line, i) => {
    const last = i === lines.length - 1;
    for (let off = 0; off < line.length || off === 0; off += MAX_LOG_RECORD) {
      const chunk = line.slice(off, off + MAX_LOG_RECORD);
      const more = off + MAX_LOG_RECORD < line.length;
      const partial = more || (last && !endsWithNewline);
      out += `${time} ${stream} ${partial ? "P" : "F"} ${chunk}\n`;
      if (line.length === 0) break;
    }
  });
  return out;
}

/** Parses one line of a CRI log file; null when it is not a record. */
export function parseCriRecord(line: string): CriLogRecord | null {
  const a = line.indexOf(" ");
  if (a <= 0) return null;
  const b = line.indexOf(" ", a + 1);
  if (b < 0) return null;
  const stream = line.slice(a + 1, b);
  if (stream !== "stdout" && stream !== "stderr") return null;
  const tag = line.slice(b + 1, b + 2);
  if (tag !== "P" && tag !== "F") return null;
  // The text follows one space; an empty full line may lack it.
  const text = line.length > b + 2 ? line.slice(b + 3) : "";
  const time = line.slice(0, a);
  return { time, ms: parseRfc3339(time), stream, partial: tag === "P", text };
}

/** Unix ms of an RFC 3339 time with any number of fraction digits (JS parses at most 3). */
export function parseRfc3339(time: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return NaN;
  const frac = (m[2] ?? "").slice(0, 3).padEnd(3, "0");
  return Date.parse(`${m[1]}.${frac}${m[3]}`);
}
