/**
 * The RuntimeAdapter conformance suite: every adapter (process, fake, and
 * later containerd and Docker) runs it through a `RuntimeFixture` that says
 * how to start it and how to express a few workloads in its terms.
 * `runtime.test.ts` runs it for the built-in adapters.
 *
 * Optional abilities are tested only when the adapter declares them; each
 * skipped case says why in its name.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ContainerConfig, ContainerEvent, ContainerStatus, PodSandboxConfig, RuntimeAdapter } from "../../core/runtime/adapter.ts";
import { parseCriRecord } from "../../core/runtime/cri-log.ts";

/** Workloads the suite needs; each fixture says how its runtime runs them. */
export type Workload =
  /** Writes `stdout` (a line) to stdout, then runs until stopped. */
  | { kind: "run"; stdout?: string }
  /** Writes the lines, then exits with `code`. */
  | { kind: "exit"; code: number; stdout?: string; stderr?: string }
  /** Ignores SIGTERM, then writes a line `ready` to stdout; runs until SIGKILL. */
  | { kind: "ignore-term" }
  /** Prints `NAME=value` for each name, then runs until stopped. */
  | { kind: "print-env"; names: string[] }
  /** Prints the content of the file at `path` (inside the container), then runs until stopped. */
  | { kind: "read-file"; path: string }
  /** Serves TCP on `port`: answers every connection with `hello\n`, then echoes. */
  | { kind: "listen"; port: number };

export type ExecWorkload = { kind: "echo"; text: string } | { kind: "exit"; code: number } | { kind: "cat" } | { kind: "sleep"; seconds: number };

export interface RuntimeFixture {
  /** A fresh adapter; called once, when the suite is defined (so its capabilities pick the cases). */
  create(): RuntimeAdapter;
  /** A second adapter over the same state, as after an agent restart. Absent: re-adoption is skipped. */
  reopen?(): Promise<RuntimeAdapter> | RuntimeAdapter;
  workload(w: Workload): Partial<ContainerConfig>;
  execCommand(w: ExecWorkload): string[];
  /** The image containers run from (present locally, or pullable). Default `conformance/test:1`. */
  image?: string;
  /**
   * For runtimes with `capabilities.imageStore`: an image archive (OCI layout
   * or docker-save tar) and the names `importImage` must report for it. It
   * may hold `image`; the suite re-imports it after removing it.
   */
  imageArchive?: { path: string; names: string[] };
  /** A directory the suite may write logs and mount sources into. */
  dir: string;
  /** Removes whatever the adapter left behind (called after the suite, also on failure). */
  cleanup(): Promise<void>;
}

const POLL_MS = 20;

async function eventually<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function collector(): { stream: WritableStream<Uint8Array>; text(): string } {
  const chunks: Uint8Array[] = [];
  return {
    stream: new WritableStream({ write: (c) => void chunks.push(c) }),
    text: () => Buffer.concat(chunks).toString("utf8"),
  };
}

export function runtimeConformance(name: string, fixture: RuntimeFixture): void {
  const IMAGE = fixture.image ?? "conformance/test:1";
  describe(`RuntimeAdapter conformance: ${name}`, () => {
    const rt = fixture.create();
    const caps = rt.capabilities;
    let n = 0;
    const sandboxes: string[] = [];
    /**
     * `test` when the adapter declares the capability. Otherwise, for an ability
     * that is an optional member, the contract is checked instead (undeclared
     * means absent, never a method that throws); an ability with no member of
     * its own (mounts, persistence) does not apply, and the skip says why.
     */
    const when =
      (ok: boolean, why: string, member?: "exec" | "portForward" | "stats" | "subscribe" | "importImage") =>
      (title: string, fn: () => Promise<void>) => {
        if (ok) return test(title, fn);
        if (member) return test(`${title}: not declared (${why}), so \`${member}\` is absent`, () => expect(rt[member]).toBeUndefined());
        return test.skip(`${title} (does not apply: ${why})`, fn);
      };

    afterAll(async () => {
      try {
        for (const id of sandboxes) await rt.removePodSandbox(id).catch(() => undefined);
        await rt.close();
      } finally {
        await fixture.cleanup();
      }
    });

    function sandboxConfig(extra: Partial<PodSandboxConfig> = {}): PodSandboxConfig {
      const i = ++n;
      const logDirectory = join(fixture.dir, "logs", `pod-${i}`);
      mkdirSync(logDirectory, { recursive: true });
      return {
        uid: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
        name: `pod-${i}`,
        namespace: "conformance",
        attempt: 0,
        hostname: `pod-${i}`,
        hostNetwork: false,
        labels: { "io.kubernetes.pod.name": `pod-${i}`, suite: "conformance" },
        annotations: { "conformance/n": String(i) },
        portMappings: [],
        logDirectory,
        ...extra,
      };
    }

    async function sandbox(extra: Partial<PodSandboxConfig> = {}): Promise<{ id: string; config: PodSandboxConfig }> {
      const config = sandboxConfig(extra);
      const id = await rt.runPodSandbox(config);
      sandboxes.push(id);
      return { id, config };
    }

    function containerConfig(sb: PodSandboxConfig, w: Workload, extra: Partial<ContainerConfig> = {}): ContainerConfig {
      const base: ContainerConfig = {
        name: "c",
        attempt: 0,
        image: IMAGE,
        command: [],
        args: [],
        env: [],
        mounts: [],
        logPath: join(sb.logDirectory, `c-${++n}.log`),
        stdin: false,
        stdinOnce: false,
        tty: false,
        resources: {},
        labels: { "io.kubernetes.container.name": "c" },
        annotations: { "conformance/hash": "abc" },
      };
      const wl = fixture.workload(w);
      return {
        ...base,
        ...wl,
        ...extra,
        env: [...(wl.env ?? []), ...(extra.env ?? [])],
        annotations: { ...base.annotations, ...wl.annotations, ...extra.annotations },
        labels: { ...base.labels, ...wl.labels, ...extra.labels },
      };
    }

    async function started(w: Workload, extra: Partial<ContainerConfig> = {}) {
      const sb = await sandbox();
      const config = containerConfig(sb.config, w, extra);
      const id = await rt.createContainer(sb.id, config, sb.config);
      await rt.startContainer(id);
      return { sb, id, config };
    }

    const exited = (id: string, timeoutMs = 10_000) =>
      eventually(`container ${id} to exit`, async () => {
        const s = await rt.containerStatus(id);
        return s?.state === "exited" ? s : undefined;
      }, timeoutMs);

    const logRecords = (path: string) =>
      existsSync(path)
        ? readFileSync(path, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => parseCriRecord(l))
        : [];

    test("declares a name, capabilities and a version", async () => {
      expect(rt.name).toBe(name);
      for (const k of ["podIP", "exec", "tty", "portForward", "resourceLimits", "stats", "mounts", "events", "persistent", "images", "imageStore"] as const) {
        expect(typeof rt.capabilities[k]).toBe("boolean");
      }
      expect(typeof rt.exec === "function").toBe(rt.capabilities.exec);
      expect(typeof rt.portForward === "function").toBe(rt.capabilities.portForward);
      expect(typeof rt.stats === "function").toBe(rt.capabilities.stats);
      expect(typeof rt.subscribe === "function").toBe(rt.capabilities.events);
      for (const m of [rt.listImages, rt.removeImage, rt.importImage]) expect(typeof m === "function").toBe(rt.capabilities.imageStore);
      const v = await rt.version();
      expect(v.runtimeName.length).toBeGreaterThan(0);
      expect(v.runtimeVersion.length).toBeGreaterThan(0);
    });

    test("status, when offered, reports a healthy runtime as ready (and does so repeatedly)", async () => {
      if (!rt.status) return; // optional: the agent falls back to version()
      for (let i = 0; i < 3; i++) {
        const h = await rt.status();
        expect(h.ready).toBe(true);
        expect(h.problems ?? []).toEqual([]);
      }
    });

    test("images: pull is idempotent and imageStatus reports the reference", async () => {
      const a = await rt.pullImage(IMAGE);
      const b = await rt.pullImage(IMAGE);
      expect(a).toBe(b);
      expect((await rt.imageStatus(IMAGE))?.ref).toBe(a);
    });

    when(caps.imageStore, "the runtime keeps no image store", "importImage")(
      "image store: import an archive with progress, list, remove (idempotent), re-import",
      async () => {
        const archive = fixture.imageArchive;
        if (!archive) throw new Error("a runtime with capabilities.imageStore must give the suite an imageArchive");
        const progress: number[] = [];
        const names = await rt.importImage!(archive.path, (p) => progress.push(p.done / p.total));
        expect([...names].sort()).toEqual([...archive.names].sort());
        expect(progress.length).toBeGreaterThan(0);
        expect(progress.at(-1)).toBe(1);
        const listed = await rt.listImages!();
        for (const want of archive.names) expect(listed.some((i) => i.tags.includes(want))).toBe(true);
        const name = archive.names[0]!;
        const ref = (await rt.imageStatus(name))?.ref;
        expect(ref?.length).toBeGreaterThan(0);
        expect(listed.find((i) => i.tags.includes(name))?.ref).toBe(ref!);
        await rt.removeImage!(name);
        expect(await rt.imageStatus(name)).toBeNull();
        await rt.removeImage!(name);
        await rt.importImage!(archive.path);
        expect((await rt.imageStatus(name))?.ref).toBe(ref!);
      },
    );

    test("sandbox lifecycle: run, status, list, stop, remove (idempotent)", async () => {
      const { id, config } = await sandbox();
      const s = await rt.podSandboxStatus(id);
      expect(s?.state).toBe("ready");
      expect(s?.config).toEqual({ uid: config.uid, name: config.name, namespace: config.namespace, attempt: 0 });
      expect(s?.labels).toEqual(config.labels);
      expect(s?.annotations).toEqual(config.annotations);
      if (rt.capabilities.podIP) {
        expect(s?.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
        expect(s?.ips?.[0]).toBe(s!.ip!);
      }
      expect((await rt.listPodSandboxes()).some((x) => x.id === id)).toBe(true);
      await rt.stopPodSandbox(id);
      await rt.stopPodSandbox(id);
      expect((await rt.podSandboxStatus(id))?.state).toBe("notready");
      await rt.removePodSandbox(id);
      await rt.removePodSandbox(id);
      expect(await rt.podSandboxStatus(id)).toBeNull();
      expect((await rt.listPodSandboxes()).some((x) => x.id === id)).toBe(false);
    });

    when(caps.podIP, "no podIP capability")("two sandboxes get different IPs", async () => {
      const a = await sandbox();
      const b = await sandbox();
      const [sa, sb] = [await rt.podSandboxStatus(a.id), await rt.podSandboxStatus(b.id)];
      expect(sa?.ip).toBeDefined();
      expect(sa?.ip).not.toBe(sb?.ip);
    });

    test("unknown ids: status is null, stop and remove succeed", async () => {
      expect(await rt.podSandboxStatus("no-such-sandbox")).toBeNull();
      expect(await rt.containerStatus("no-such-container")).toBeNull();
      await rt.stopPodSandbox("no-such-sandbox");
      await rt.removePodSandbox("no-such-sandbox");
      await rt.stopContainer("no-such-container", 0);
      await rt.removeContainer("no-such-container");
    });

    test("container lifecycle: created, running, stopped by SIGTERM (143), removed", async () => {
      const sb = await sandbox();
      const config = containerConfig(sb.config, { kind: "run", stdout: "hello" }, { attempt: 2 });
      const id = await rt.createContainer(sb.id, config, sb.config);
      const created = await rt.containerStatus(id);
      expect(created).toMatchObject({ id, podSandboxId: sb.id, name: "c", attempt: 2, state: "created", image: config.image, logPath: config.logPath });
      expect(created?.labels).toEqual(config.labels);
      expect(created?.annotations).toEqual(config.annotations);
      expect(created!.imageRef.length).toBeGreaterThan(0);
      const before = Date.now();
      await rt.startContainer(id);
      const running = await rt.containerStatus(id);
      expect(running?.state).toBe("running");
      expect(running!.startedAt!).toBeGreaterThanOrEqual(created!.createdAt);
      expect(running!.startedAt!).toBeLessThanOrEqual(Date.now());
      expect(running!.startedAt! - before).toBeLessThan(5000);
      const list = await rt.listContainers({ podSandboxId: sb.id });
      expect(list.map((c) => c.id)).toEqual([id]);
      expect((await rt.listContainers()).some((c) => c.id === id)).toBe(true);
      await rt.stopContainer(id, 10);
      const stopped = await rt.containerStatus(id);
      expect(stopped).toMatchObject({ state: "exited", exitCode: 143, reason: "Error" });
      expect(stopped!.finishedAt!).toBeGreaterThanOrEqual(stopped!.startedAt!);
      await rt.stopContainer(id, 10);
      await rt.removeContainer(id);
      await rt.removeContainer(id);
      expect(await rt.containerStatus(id)).toBeNull();
      expect(await rt.listContainers({ podSandboxId: sb.id })).toEqual([]);
    });

    test("exit codes: 0 is Completed, non-zero is Error", async () => {
      const ok = await started({ kind: "exit", code: 0 });
      const bad = await started({ kind: "exit", code: 3 });
      expect(await exited(ok.id)).toMatchObject({ exitCode: 0, reason: "Completed" });
      expect(await exited(bad.id)).toMatchObject({ exitCode: 3, reason: "Error" });
    });

    /** Waits until the container has written `text` (its signal handlers are set up). */
    const logged = (path: string, text: string) =>
      eventually(`"${text}" in the log`, async () => logRecords(path).some((r) => r?.text === text));

    test("a container that ignores SIGTERM is killed after the timeout (137)", async () => {
      const { id, config } = await started({ kind: "ignore-term" });
      await logged(config.logPath, "ready");
      const t0 = Date.now();
      await rt.stopContainer(id, 1);
      const s = await rt.containerStatus(id);
      expect(s).toMatchObject({ state: "exited", exitCode: 137 });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
      expect(Date.now() - t0).toBeLessThan(5000);
    });

    test("stop with timeout 0 kills at once", async () => {
      const { id } = await started({ kind: "ignore-term" });
      const t0 = Date.now();
      await rt.stopContainer(id, 0);
      expect((await rt.containerStatus(id))?.exitCode).toBe(137);
      expect(Date.now() - t0).toBeLessThan(2000);
    });

    test("output goes to logPath in the CRI format, stdout and stderr tagged", async () => {
      const { id, config } = await started({ kind: "exit", code: 0, stdout: "to-stdout", stderr: "to-stderr" });
      await exited(id);
      const records = await eventually("two log records", async () => {
        const r = logRecords(config.logPath);
        return r.length >= 2 ? r : undefined;
      });
      for (const r of records) {
        expect(r).not.toBeNull();
        expect(Number.isNaN(r!.ms)).toBe(false);
        expect(Math.abs(r!.ms - Date.now())).toBeLessThan(60_000);
        expect(r!.partial).toBe(false);
      }
      expect(records.find((r) => r!.stream === "stdout")?.text).toBe("to-stdout");
      expect(records.find((r) => r!.stream === "stderr")?.text).toBe("to-stderr");
    });

    test("environment variables reach the container", async () => {
      const { config } = await started(
        { kind: "print-env", names: ["CONF_A", "CONF_B"] },
        { env: [{ name: "CONF_A", value: "alpha" }, { name: "CONF_B", value: "b c=d" }] },
      );
      const text = await eventually("env output", async () => {
        const t = logRecords(config.logPath).map((r) => r!.text);
        return t.length >= 2 ? t : undefined;
      });
      expect(text).toContain("CONF_A=alpha");
      expect(text).toContain("CONF_B=b c=d");
    });

    test("stopping a sandbox stops its containers", async () => {
      const a = await started({ kind: "run" });
      await rt.stopPodSandbox(a.sb.id);
      expect((await rt.containerStatus(a.id))?.state).toBe("exited");
      expect((await rt.podSandboxStatus(a.sb.id))?.state).toBe("notready");
    });

    test("removing a sandbox removes its containers", async () => {
      const a = await started({ kind: "run" });
      await rt.removePodSandbox(a.sb.id);
      expect(await rt.containerStatus(a.id)).toBeNull();
      expect(await rt.podSandboxStatus(a.sb.id)).toBeNull();
    });

    test("several containers in one sandbox, listed by sandbox", async () => {
      const sb = await sandbox();
      const ids: string[] = [];
      for (const nm of ["one", "two"]) {
        const id = await rt.createContainer(sb.id, containerConfig(sb.config, { kind: "run" }, { name: nm, labels: { "io.kubernetes.container.name": nm } }), sb.config);
        await rt.startContainer(id);
        ids.push(id);
      }
      const list = await rt.listContainers({ podSandboxId: sb.id });
      expect(list.map((c) => c.name).sort()).toEqual(["one", "two"]);
      expect(list.every((c) => c.state === "running")).toBe(true);
      await rt.stopPodSandbox(sb.id);
    });

    when(caps.mounts, "no mounts capability")("mounts are applied at containerPath", async () => {
      const src = join(fixture.dir, `mount-src-${++n}`);
      mkdirSync(src, { recursive: true });
      writeFileSync(join(src, "greeting"), "mounted-content\n");
      const target = `/tmp/skiff-conformance-mount-${process.pid}-${n}`;
      const { config } = await started({ kind: "read-file", path: `${target}/greeting` }, { mounts: [{ containerPath: target, hostPath: src, readOnly: true }] });
      const text = await eventually("file content in the log", async () => logRecords(config.logPath).map((r) => r!.text).find((t) => t.includes("mounted")));
      expect(text).toBe("mounted-content");
    });

    when(caps.events, "no events capability", "subscribe")("events: created, started and stopped are pushed", async () => {
      const seen: ContainerEvent[] = [];
      const off = rt.subscribe!((e) => seen.push(e));
      try {
        const { id } = await started({ kind: "exit", code: 0 });
        await eventually("a stopped event", async () => seen.some((e) => e.containerId === id && e.type === "stopped"));
        expect(seen.filter((e) => e.containerId === id).map((e) => e.type).slice(0, 2)).toEqual(["created", "started"]);
      } finally {
        off();
      }
    });

    when(caps.exec, "no exec capability", "exec")("exec: output and exit code", async () => {
      const { id } = await started({ kind: "run" });
      const out = collector();
      const code = await rt.exec!(id, fixture.execCommand({ kind: "echo", text: "from-exec" }), { stdout: out.stream });
      expect(code).toBe(0);
      expect(out.text()).toBe("from-exec\n");
      expect(await rt.exec!(id, fixture.execCommand({ kind: "exit", code: 7 }), {})).toBe(7);
    });

    when(caps.exec, "no exec capability", "exec")("exec: stdin reaches the command", async () => {
      const { id } = await started({ kind: "run" });
      const out = collector();
      const stdin = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode("line one\nline two\n"));
          c.close();
        },
      });
      expect(await rt.exec!(id, fixture.execCommand({ kind: "cat" }), { stdin, stdout: out.stream })).toBe(0);
      expect(out.text()).toBe("line one\nline two\n");
    });

    when(caps.exec, "no exec capability", "exec")("exec: aborting kills the command", async () => {
      const { id } = await started({ kind: "run" });
      const ac = new AbortController();
      const t0 = Date.now();
      const p = rt.exec!(id, fixture.execCommand({ kind: "sleep", seconds: 30 }), { signal: ac.signal });
      setTimeout(() => ac.abort(), 100);
      expect(await p).not.toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
    });

    when(caps.portForward, "no portForward capability", "portForward")("portForward: a byte stream to a port in the sandbox", async () => {
      const port = 20000 + Math.floor(Math.random() * 20000);
      const { sb } = await started({ kind: "listen", port });
      const text = await eventually("a greeting through the forwarded port", async () => {
        const conn = await rt.portForward!(sb.id, port);
        const w = conn.writable.getWriter();
        const r = conn.readable.getReader();
        try {
          await w.write(new TextEncoder().encode("ping\n"));
          let got = "";
          while (!got.includes("ping")) {
            const { done, value } = await r.read();
            if (done) break;
            got += new TextDecoder().decode(value);
          }
          return got;
        } finally {
          await w.close().catch(() => undefined);
          r.releaseLock();
        }
      });
      expect(text).toContain("hello");
      expect(text).toContain("ping");
    });

    when(caps.stats, "no stats capability", "stats")("stats: CPU and memory of a running container", async () => {
      const { id } = await started({ kind: "run" });
      const s = await eventually("stats", () => rt.stats!(id));
      expect(s.memoryWorkingSetBytes).toBeGreaterThanOrEqual(0);
      expect(s.cpuUsageNanos).toBeGreaterThanOrEqual(0);
      expect(Math.abs(s.timestamp - Date.now())).toBeLessThan(10_000);
    });

    when(fixture.reopen !== undefined, "the fixture cannot reopen")("re-adoption: a second adapter over the same state sees and controls what the first started", async () => {
      const running = await started({ kind: "run", stdout: "before" });
      const done = await started({ kind: "exit", code: 4 });
      await exited(done.id);
      const before: ContainerStatus = (await rt.containerStatus(running.id))!;
      const second = await fixture.reopen!();
      try {
        const sbs = await second.listPodSandboxes();
        const sb = sbs.find((s) => s.id === running.sb.id);
        expect(sb?.state).toBe("ready");
        expect(sb?.labels).toEqual(running.sb.config.labels);
        const s = await second.containerStatus(running.id);
        expect(s).toMatchObject({ state: "running", name: "c", attempt: 0, startedAt: before.startedAt });
        expect(s?.labels).toEqual(running.config.labels);
        expect(s?.annotations).toEqual(running.config.annotations);
        expect(s?.info?.pid).toBe(before.info?.pid);
        expect(await second.containerStatus(done.id)).toMatchObject({ state: "exited", exitCode: 4 });
        await second.stopContainer(running.id, 5);
        expect(await second.containerStatus(running.id)).toMatchObject({ state: "exited", exitCode: 143 });
        // And the exit is visible to the first adapter too (the state is shared).
        expect((await exited(running.id)).exitCode).toBe(143);
      } finally {
        await second.close();
      }
    });

    when(fixture.reopen !== undefined && caps.persistent, "not persistent across processes")("a container stopped through another instance is seen after reopening", async () => {
      const { id } = await started({ kind: "run" });
      const second = await fixture.reopen!();
      try {
        await second.stopContainer(id, 5);
        const third = await fixture.reopen!();
        try {
          expect(await third.containerStatus(id)).toMatchObject({ state: "exited", exitCode: 143 });
        } finally {
          await third.close();
        }
      } finally {
        await second.close();
      }
    });
  });
}
