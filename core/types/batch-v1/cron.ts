/**
 * @module The checks of robfig/cron `ParseStandard` (what CronJob validation
 * runs on `spec.schedule`), returning its error text: five fields or an
 * `@` descriptor, an optional `TZ=`/`CRON_TZ=` prefix, ranges, steps and
 * month/weekday names. Only whether and why a spec fails is modelled, not
 * the schedule itself.
 */

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

const FIELDS: Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: Object.fromEntries(MONTHS.map((m, i) => [m, i + 1])) },
  { min: 0, max: 6, names: Object.fromEntries(DAYS.map((d, i) => [d, i])) },
];

const DESCRIPTORS = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);

class CronError extends Error {}

/** Whether `tz` names an IANA time zone this runtime knows (Go's time.LoadLocation). */
export function isKnownTimeZone(tz: string): boolean {
  if (tz === "UTC" || tz === "") return true;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** strconv.Atoi plus robfig's non-negative check. */
function mustParseInt(expr: string): number {
  if (!/^[+-]?\d+$/.test(expr)) throw new CronError(`failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: invalid syntax`);
  const n = Number.parseInt(expr, 10);
  if (n < 0) throw new CronError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function parseIntOrName(expr: string, names: Record<string, number> | undefined): number {
  const named = names?.[expr.toLowerCase()];
  return named ?? mustParseInt(expr);
}

function checkRange(expr: string, b: Bounds): void {
  const rangeAndStep = expr.split("/");
  const lowAndHigh = (rangeAndStep[0] ?? "").split("-");
  const single = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  const low = lowAndHigh[0] ?? "";
  if (low === "*" || low === "?") {
    start = b.min;
    end = b.max;
  } else {
    start = parseIntOrName(low, b.names);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1] ?? "", b.names);
    else throw new CronError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = mustParseInt(rangeAndStep[1] ?? "");
    if (single) end = b.max;
  } else if (rangeAndStep.length > 2) throw new CronError(`too many slashes: ${expr}`);
  if (start < b.min) throw new CronError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new CronError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new CronError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronError(`step of range should be a positive number: ${expr}`);
}

/** Go's time.ParseDuration accepts this shape (used by `@every`). */
function isGoDuration(s: string): boolean {
  return /^[+-]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$/.test(s) || s === "0";
}

/** The error robfig/cron's ParseStandard returns for `spec`, or undefined when it parses. */
export function cronParseError(spec: string): string | undefined {
  try {
    parse(spec);
    return undefined;
  } catch (e) {
    if (e instanceof CronError) return e.message;
    throw e;
  }
}

function parse(specIn: string): void {
  let spec = specIn;
  if (spec.length === 0) throw new CronError("empty spec string");
  if (spec.startsWith("TZ=") || spec.startsWith("CRON_TZ=")) {
    const eq = spec.indexOf("=");
    const sp = spec.indexOf(" ");
    const tz = sp < 0 ? spec.slice(eq + 1) : spec.slice(eq + 1, sp);
    if (!isKnownTimeZone(tz)) throw new CronError(`provided bad location ${tz}: unknown time zone ${tz}`);
    spec = sp < 0 ? "" : spec.slice(sp).trim();
  }
  if (spec.startsWith("@")) {
    if (spec.startsWith("@every ")) {
      const d = spec.slice("@every ".length);
      if (!isGoDuration(d)) throw new CronError(`failed to parse duration ${spec}: time: invalid duration ${JSON.stringify(d)}`);
      return;
    }
    if (!DESCRIPTORS.has(spec)) throw new CronError(`unrecognized descriptor: ${spec}`);
    return;
  }
  const fields = spec.split(/\s+/).filter((f) => f !== "");
  if (fields.length !== 5) throw new CronError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(" ")}]`);
  fields.forEach((field, i) => {
    const b = FIELDS[i];
    if (b) for (const expr of field.split(",")) checkRange(expr, b);
  });
}
