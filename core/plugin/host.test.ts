import { describe, expect, test } from "bun:test";
import type { Client, InformerFactory } from "../client/types.ts";
import { logger } from "../log.ts";
import { PluginHost } from "./host.ts";
import { PluginRegistry } from "./registry.ts";
import { Tokens } from "./tokens.ts";
import type { EventSink, Plugin, PluginContext } from "./types.ts";

interface Recorded {
  reason: string;
  message: string;
  name?: string;
}

function harness() {
  const events: Recorded[] = [];
  const sink: EventSink = {
    record(involved, _type, reason, message) {
      const name = (involved as { name?: string }).name;
      events.push({ reason, message, ...(name !== undefined ? { name } : {}) });
    },
  };
  const host = new PluginHost({
    role: "server",
    client: {} as Client,
    informers: {} as InformerFactory,
    events: sink,
    log: logger("test-plugins"),
    backoff: { initialMs: 20, maxMs: 80, resetAfterMs: 60_000 },
    stopTimeoutMs: 200,
  });
  return { host, events };
}

function run(host: PluginHost, plugins: Plugin<never>[]) {
  const reg = new PluginRegistry();
  for (const p of plugins) reg.add(p);
  const order = reg.resolve(plugins.map((p) => p.manifest.name));
  host.register(order, new Map());
  return host.start();
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await Bun.sleep(5);
  }
}

function p(name: string, body: Partial<Plugin<never>> = {}, requires: string[] = []): Plugin<never> {
  return { manifest: { name, version: "0.0.1", requires }, ...body };
}

describe("PluginHost", () => {
  test("registers and starts in dependency order, stops in reverse", async () => {
    const { host } = harness();
    const calls: string[] = [];
    const mk = (name: string, requires: string[] = []) =>
      p(
        name,
        {
          register: () => void calls.push(`register ${name}`),
          start: () => void calls.push(`start ${name}`),
          stop: () => void calls.push(`stop ${name}`),
        },
        requires,
      );
    await run(host, [mk("controllers", ["scheduler"]), mk("scheduler")]);
    await host.stop();
    expect(calls).toEqual([
      "register scheduler",
      "register controllers",
      "start scheduler",
      "start controllers",
      "stop controllers",
      "stop scheduler",
    ]);
  });

  test("the container carries the kernel services and what plugins register", async () => {
    const { host } = harness();
    let seen: unknown;
    const provider = p("provider", {
      register: (c) => c.register(Tokens.Admission, { useValue: { name: "deny-nothing" } }),
    });
    const consumer = p(
      "consumer",
      {
        start: (ctx: PluginContext) => {
          seen = ctx.container.resolveAll(Tokens.Admission).map((a) => a.name);
          expect(ctx.container.resolve(Tokens.Role)).toBe("server");
        },
      } as Partial<Plugin<never>>,
      ["provider"],
    );
    await run(host, [consumer, provider]);
    await host.stop();
    expect(seen).toEqual(["deny-nothing"]);
  });

  test("a plugin that throws in start is reported, restarted with backoff, and does not stop the others", async () => {
    const { host, events } = harness();
    let attempts = 0;
    let otherStarted = false;
    const crashy = p("crashy", {
      start: () => {
        attempts++;
        if (attempts < 3) throw new Error(`boom ${attempts}`);
      },
    });
    const other = p("other", { start: () => void (otherStarted = true) });
    await run(host, [crashy, other]);
    expect(otherStarted).toBe(true);
    const first = host.status().find((s) => s.name === "crashy")!;
    expect(first.state).toBe("failed");
    expect(first.error).toBe("boom 1");
    expect(host.checks()["plugin/crashy"]!()).toBe("boom 1 (restarting)");
    expect(host.checks()["plugin/other"]!()).toBe(true);
    await until(() => host.status().find((s) => s.name === "crashy")!.state === "running");
    expect(attempts).toBe(3);
    expect(host.status().find((s) => s.name === "crashy")!.restarts).toBe(2);
    expect(host.checks()["plugin/crashy"]!()).toBe(true);
    expect(events.map((e) => [e.name, e.reason])).toEqual([
      ["crashy", "PluginFailed"],
      ["crashy", "PluginFailed"],
    ]);
    expect(events[0]!.message).toContain("boom 1");
    await host.stop();
  });

  test("a supervised task that fails later restarts the plugin with a fresh context", async () => {
    const { host } = harness();
    const signals: AbortSignal[] = [];
    let stops = 0;
    let fail = true;
    const flaky = p("flaky", {
      start: (ctx: PluginContext) => {
        signals.push(ctx.signal);
        ctx.spawn("loop", async (signal) => {
          await Bun.sleep(10);
          if (fail) {
            fail = false;
            throw new Error("loop died");
          }
          if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
        });
      },
      stop: () => void stops++,
    } as Partial<Plugin<never>>);
    await run(host, [flaky]);
    expect(host.status()[0]!.state).toBe("running");
    await until(() => signals.length === 2 && host.status()[0]!.state === "running");
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[1]!.aborted).toBe(false);
    expect(stops).toBe(1);
    await host.stop();
    expect(signals[1]!.aborted).toBe(true);
    expect(stops).toBe(2);
  });

  test("a plugin failing in a loop backs off (delays double up to the cap)", async () => {
    const { host } = harness();
    const times: number[] = [];
    await run(host, [
      p("always-fails", {
        start: () => {
          times.push(Date.now());
          throw new Error("nope");
        },
      }),
    ]);
    await until(() => times.length >= 5, 5000);
    await host.stop();
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // 20, 40, 80, 80 ms (timers may run late, never early).
    expect(gaps[0]!).toBeGreaterThanOrEqual(18);
    expect(gaps[1]!).toBeGreaterThanOrEqual(38);
    expect(gaps[2]!).toBeGreaterThanOrEqual(78);
    expect(gaps[3]!).toBeLessThan(78 + 150);
  });

  test("a plugin that ignores its abort signal does not hang stop", async () => {
    const { host } = harness();
    await run(host, [
      p("stubborn", {
        start: (ctx: PluginContext) => ctx.spawn("forever", () => new Promise<void>(() => {})),
      } as Partial<Plugin<never>>),
    ]);
    const t0 = Date.now();
    await host.stop();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(host.status()[0]!.state).toBe("stopped");
  });

  test("no restart happens after stop", async () => {
    const { host } = harness();
    let attempts = 0;
    await run(host, [
      p("dies", {
        start: () => {
          attempts++;
          throw new Error("x");
        },
      }),
    ]);
    await host.stop();
    await Bun.sleep(60);
    expect(attempts).toBe(1);
    expect(host.status()[0]!.state).toBe("stopped");
  });

  test("a throwing register is a startup error naming the plugin", () => {
    const { host } = harness();
    expect(() =>
      host.register(
        [
          p("bad-wiring", {
            register: () => {
              throw new Error("token missing");
            },
          }),
        ],
        new Map(),
      ),
    ).toThrow('plugin "bad-wiring": register failed: token missing');
  });
});
