/**
 * @module The current time as Kubernetes serializes `metav1.Time`: RFC 3339
 * in UTC with second precision (`2026-11-25T10:08:24Z`).
 */

let second = NaN;
let text = "";

/**
 * Now, to the second. Every write stamps one or two of these, so the text is
 * built once per second instead of once per call.
 */
export function nowRfc3339(): string {
  const s = Math.floor(Date.now() / 1000);
  if (s !== second) {
    second = s;
    text = new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  }
  return text;
}
