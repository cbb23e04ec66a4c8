import { describe, expect, test } from "bun:test";
import { type ChangeEvent, WatchHub } from "./watch-hub.ts";

/** A committed change at `revision` whose JSON is `size` characters. */
function change(revision: number, size: number, resource = "pods"): ChangeEvent {
  return { type: "ADDED", revision, resource, ns: "default", raw: "x".repeat(size), labels: undefined, fields: {} };
}

const revs = (r: ReturnType<WatchHub["since"]>) => r && { revisions: r.events.map((e) => e.revision), complete: r.complete };

describe("watch hub window", () => {
  test("bounded by count: the oldest events leave first", () => {
    const hub = new WatchHub(0, { windowSize: 3 });
    hub.publish([1, 2, 3, 4, 5].map((r) => change(r, 10)));
    expect(hub.window.events).toBe(3);
    expect(revs(hub.since("pods", 2, 100))).toEqual({ revisions: [3, 4, 5], complete: true });
    expect(hub.since("pods", 1, 100)).toBeNull(); // revision 2 is gone: the log must answer
  });

  test("bounded by bytes: JSON plus a fixed allowance per event", () => {
    const hub = new WatchHub(0, { windowSize: 1000, windowBytes: 3000 });
    hub.publish([1, 2, 3, 4, 5, 6].map((r) => change(r, 1000 - 256)));
    // Each event weighs 1,000: three fit.
    expect(hub.window).toEqual({ events: 3, bytes: 3000 });
    expect(revs(hub.since("pods", 3, 100))).toEqual({ revisions: [4, 5, 6], complete: true });
    expect(hub.since("pods", 2, 100)).toBeNull();
    // A small event pushes out only as much as it needs.
    hub.publish([change(7, 10)]);
    expect(hub.window.events).toBe(3);
    expect(revs(hub.since("pods", 4, 100))).toEqual({ revisions: [5, 6, 7], complete: true });
  });

  test("an event larger than the byte bound empties the window; later ones start a new one", () => {
    const hub = new WatchHub(0, { windowSize: 1000, windowBytes: 3000 });
    hub.publish([change(1, 100), change(2, 100)]);
    hub.publish([change(3, 5000)]);
    expect(hub.window).toEqual({ events: 0, bytes: 0 });
    expect(hub.since("pods", 1, 100)).toBeNull();
    expect(revs(hub.since("pods", 3, 100))).toEqual({ revisions: [], complete: true }); // nothing after the last published
    hub.publish([change(4, 100), change(5, 100, "leases")]);
    expect(revs(hub.since("pods", 3, 100))).toEqual({ revisions: [4], complete: true });
    expect(hub.since("pods", 2, 100)).toBeNull();
  });

  test("a window of zero events keeps nothing and never answers from memory", () => {
    const hub = new WatchHub(0, { windowSize: 0 });
    hub.publish([change(1, 10), change(2, 10)]);
    expect(hub.window.events).toBe(0);
    expect(hub.since("pods", 1, 100)).toBeNull();
    expect(hub.published).toBe(2);
  });
});
