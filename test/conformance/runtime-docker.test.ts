/**
 * Runs the RuntimeAdapter conformance suite against the docker adapter, over
 * a private dockerd this file starts and stops
 * (runtime-adapters/docker/scripts/start-dockerd.sh: its own containerd,
 * sockets, data root; the adapter creates a bridge network with a subnet
 * unique to the run). Images are built offline with scripts/mkimage.sh:
 * the sandbox image is loaded by the adapter from its archive
 * (`pauseImageArchive`), the suite's image is loaded before the suite, and
 * a third image is the archive of the image-store case.
 *
 * Also here: resuming log copying after an adapter restart without
 * duplicated lines, the entrypoint mapping (an image's CMD is used when the
 * command is empty), host ports on the sandbox, DNS config, memory limits
 * with OOMKilled, a start error, exec with a TTY, and pulls from a loopback
 * docker-registry with htpasswd auth (the registry helpers are the
 * containerd adapter's test helpers).
 * In CI a missing dockerd fails the suite; elsewhere it is skipped with one
 * loud line.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ContainerConfig, PodSandboxConfig } from "../../core/runtime/adapter.ts";
import { parseCriRecord } from "../../core/runtime/cri-log.ts";
import { DockerRuntime, registryAuthHeader } from "../../runtime-adapters/docker/index.ts";
import { pushArchive, registryMissing, startRegistry, type TestRegistry } from "../../runtime-adapters/containerd/testing.ts";
import { dockerdMissing, mkimage, startDockerd } from "../../runtime-adapters/docker/testing.ts";
import { describeWith } from "../e2e/require.ts";
import { runtimeConformance } from "./runtime-suite.ts";

const missing = dockerdMissing() ?? registryMissing();
setDefaultTimeout(30_000);

describe("docker adapter: X-Registry-Auth", () => {
  test("is padded URL-safe base64 JSON of Docker's AuthConfig; `auth` is split into username and password", () => {
    const h = registryAuthHeader({ serverAddress: "reg.example:5000", auth: Buffer.from("alice:s3:cr?t").toString("base64") });
    expect(JSON.parse(Buffer.from(h, "base64url").toString())).toEqual({
      username: "alice",
      password: "s3:cr?t",
      auth: Buffer.from("alice:s3:cr?t").toString("base64"),
      serveraddress: "reg.example:5000",
    });
    expect(h).not.toMatch(/[+/]/);
    // Padded, as Go's base64.URLEncoding (Docker 20.10) requires.
    expect(h.length % 4).toBe(0);
    const t = JSON.parse(Buffer.from(registryAuthHeader({ serverAddress: "r", identityToken: "tok" }), "base64url").toString());
    expect(t).toEqual({ serveraddress: "r", identitytoken: "tok" });
  });
});

if (missing) {
  describeWith("RuntimeAdapter conformance: docker", false, missing, () => undefined);
} else {
  const dir = mkdtempSync(join(tmpdir(), "skiff-conf-docker-"));
  const d = startDockerd();
  const image = "skiff.local/conformance:1";
  const pause = mkimage(join(dir, "pause.tar"), "skiff.local/pause:1", ["/bin/sleep", "2147483647"]);
  const busybox = mkimage(join(dir, "busybox.tar"), image, ["/bin/sh", "-c", "echo from-image-cmd"]);
  const archive = mkimage(join(dir, "archive.tar"), "skiff.local/archive:1", ["/bin/true"]);
  const opts = { socketPath: d.socket, instance: d.instance, network: d.network, bridge: d.bridge, subnet: d.subnet, pauseImage: "skiff.local/pause:1", pauseImageArchive: pause };
  const adapters: DockerRuntime[] = [];
  const open = () => {
    const rt = new DockerRuntime(opts);
    adapters.push(rt);
    return rt;
  };
  await open().importImage(busybox);
  // PID 1 of a container ignores signals it has no handler for, so the shell traps TERM
  // and exits as a process killed by it would (143).
  const sh = (script: string) => ({ command: ["/bin/sh", "-c", `trap 'exit 143' TERM; ${script}`] });
  const forever = "while :; do sleep 1 & wait $!; done";
  runtimeConformance("docker", {
    dir,
    image,
    imageArchive: { path: archive, names: ["skiff.local/archive:1"] },
    create: open,
    reopen: open,
    workload(w) {
      switch (w.kind) {
        case "run":
          return sh(`${w.stdout ? `echo ${w.stdout}; ` : ""}${forever}`);
        case "exit":
          return sh(`${w.stdout ? `echo ${w.stdout}; ` : ""}${w.stderr ? `echo ${w.stderr} >&2; ` : ""}sleep 0.05; exit ${w.code}`);
        case "ignore-term":
          return { command: ["/bin/sh", "-c", `trap '' TERM; echo ready; while :; do sleep 0.1; done`] };
        case "print-env":
          return sh(`${w.names.map((n) => `echo "${n}=$${n}"; `).join("")}${forever}`);
        case "read-file":
          return sh(`cat ${w.path}; ${forever}`);
        case "listen":
          return { command: ["nc", "-ll", "-p", String(w.port), "-e", "sh", "-c", "echo hello; exec cat"] };
      }
    },
    execCommand(w) {
      switch (w.kind) {
        case "echo":
          return ["echo", w.text];
        case "exit":
          return ["sh", "-c", `exit ${w.code}`];
        case "cat":
          return ["cat"];
        case "sleep":
          return ["sleep", String(w.seconds)];
      }
    },
    // The dockerd outlives the suite (the specifics below use it): stopped in afterAll at the end.
    async cleanup() {
      await rt0.removeAll();
    },
  });
  const rt0 = open();
  afterAll(async () => {
    try {
      for (const a of adapters) await a.close();
    } finally {
      d.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("docker adapter specifics", () => {
    const rt = open();
    let n = 0;
    afterAll(async () => {
      await rt.removeAll().catch(() => undefined);
    });

    function sandboxConfig(extra: Partial<PodSandboxConfig> = {}): PodSandboxConfig {
      const i = ++n;
      const logDirectory = join(dir, "specifics", `pod-${i}`);
      mkdirSync(logDirectory, { recursive: true });
      return {
        uid: `11111111-0000-4000-8000-${String(i).padStart(12, "0")}`,
        name: `spec-${i}`,
        namespace: "docker",
        attempt: 0,
        hostname: `spec-${i}`,
        hostNetwork: false,
        labels: {},
        annotations: {},
        portMappings: [],
        logDirectory,
        ...extra,
      };
    }
    function containerConfig(sb: PodSandboxConfig, extra: Partial<ContainerConfig>): ContainerConfig {
      return {
        name: "c",
        attempt: 0,
        image,
        command: [],
        args: [],
        env: [],
        mounts: [],
        logPath: join(sb.logDirectory, `c-${++n}.log`),
        stdin: false,
        stdinOnce: false,
        tty: false,
        resources: {},
        labels: {},
        annotations: {},
        ...extra,
      };
    }
    async function run(sbExtra: Partial<PodSandboxConfig>, extra: Partial<ContainerConfig>) {
      const sbc = sandboxConfig(sbExtra);
      const sb = await rt.runPodSandbox(sbc);
      const config = containerConfig(sbc, extra);
      const id = await rt.createContainer(sb, config, sbc);
      await rt.startContainer(id);
      return { sb, sbc, id, config };
    }
    const texts = (path: string) => {
      try {
        return readFileSync(path, "utf8").split("\n").filter(Boolean).map((l) => parseCriRecord(l)!.text);
      } catch {
        return [];
      }
    };
    async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 10_000): Promise<T> {
      const end = Date.now() + ms;
      for (;;) {
        const v = await fn();
        if (v !== undefined && v !== false) return v as T;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }

    test("an empty command runs the image's CMD; args alone replace it; command drops it", async () => {
      const a = await run({}, {});
      await until("CMD output", () => texts(a.config.logPath).includes("from-image-cmd"));
      const b = await run({}, { command: ["echo"], args: ["from", "args"] });
      await until("args output", () => texts(b.config.logPath).includes("from args"));
      const c = await run({}, { command: ["/bin/echo"] });
      await until("c to exit", async () => (await rt.containerStatus(c.id))?.state === "exited");
      await until("c's log", () => texts(c.config.logPath).length > 0);
      expect(texts(c.config.logPath)).toEqual([""]);
    });

    test("log copying resumes after an adapter restart without duplicates or gaps", async () => {
      const first = open();
      const sbc = sandboxConfig();
      const sb = await first.runPodSandbox(sbc);
      const config = containerConfig(sbc, { command: ["/bin/sh", "-c", "trap 'exit 143' TERM; i=0; while :; do i=$((i+1)); echo line-$i; sleep 0.02 & wait $!; done"] });
      const id = await first.createContainer(sb, config, sbc);
      await first.startContainer(id);
      await until("some lines", () => texts(config.logPath).length >= 5);
      // A second adapter over the same state, as after an agent restart, with the first gone.
      await first.close();
      const before = texts(config.logPath).length;
      await new Promise((r) => setTimeout(r, 300));
      const second = open();
      expect((await second.containerStatus(id))?.state).toBe("running");
      await until("lines written after the restart", () => texts(config.logPath).length >= before + 20);
      await second.stopContainer(id, 5);
      const lines = texts(config.logPath);
      const nums = lines.map((l) => Number(/^line-(\d+)$/.exec(l)?.[1]));
      expect(nums.every((x) => Number.isInteger(x))).toBe(true);
      expect(nums).toEqual(nums.map((_, i) => i + 1));
      await second.removeContainer(id);
      await second.close();
    });

    test("host ports on the sandbox reach the pod; DNS config is the pod's resolv.conf", async () => {
      const port = 30000 + Math.floor(Math.random() * 20000);
      const rt2 = open();
      const { config } = await (async () => {
        const sbc = sandboxConfig({
          portMappings: [{ containerPort: 8080, hostPort: port, protocol: "TCP" }],
          dns: { servers: ["10.96.0.10"], searches: ["default.svc.cluster.local", "svc.cluster.local"], options: ["ndots:5"] },
        });
        const sb = await rt2.runPodSandbox(sbc);
        const config = containerConfig(sbc, { command: ["/bin/sh", "-c", "cat /etc/resolv.conf; exec nc -ll -p 8080 -e sh -c 'echo hello-hostport'"] });
        const id = await rt2.createContainer(sb, config, sbc);
        await rt2.startContainer(id);
        return { config };
      })();
      const resolv = await until("resolv.conf in the log", () => {
        const t = texts(config.logPath);
        return t.some((l) => l.startsWith("options")) ? t : undefined;
      });
      expect(resolv).toContain("search default.svc.cluster.local svc.cluster.local");
      // Docker's embedded DNS on user-defined networks; it forwards to the pod's servers.
      expect(resolv).toContain("nameserver 127.0.0.11");
      expect(resolv.some((l) => /^options .*ndots:5/.test(l))).toBe(true);
      const got = await until("a greeting on the host port", () =>
        new Promise<string | undefined>((resolve) => {
          const s = createConnection({ host: "127.0.0.1", port });
          let buf = "";
          s.on("data", (b) => (buf += b.toString()));
          s.on("close", () => resolve(buf.includes("hello-hostport") ? buf : undefined));
          s.on("error", () => resolve(undefined));
          setTimeout(() => s.destroy(), 2000);
        }),
      );
      expect(got).toContain("hello-hostport");
      await rt2.removeAll();
      await rt2.close();
    });

    test("log rotation: after the agent renames the file, lines go to a fresh file, none lost or repeated", async () => {
      const { id, config } = await run({}, { command: ["/bin/sh", "-c", "trap 'exit 143' TERM; i=0; while :; do i=$((i+1)); echo line-$i; sleep 0.02 & wait $!; done"] });
      await until("some lines", () => texts(config.logPath).length >= 5);
      renameSync(config.logPath, `${config.logPath}.1`);
      await until("lines in the fresh file", () => texts(config.logPath).length >= 5);
      await rt.stopContainer(id, 5);
      const nums = [...texts(`${config.logPath}.1`), ...texts(config.logPath)].map((l) => Number(/^line-(\d+)$/.exec(l)?.[1]));
      expect(nums).toEqual(nums.map((_, i) => i + 1));
    });

    test("hostNetwork: no pod IP, the host's network, port-forward to 127.0.0.1", async () => {
      const port = 30000 + Math.floor(Math.random() * 20000);
      const { sb } = await run({ hostNetwork: true }, { command: ["nc", "-ll", "-p", String(port), "-e", "sh", "-c", "echo hello-host; exec cat"] });
      const st = await rt.podSandboxStatus(sb);
      expect(st?.state).toBe("ready");
      expect(st?.ip).toBeUndefined();
      const got = await until("a greeting through port-forward", async () => {
        const conn = await rt.portForward(sb, port).catch(() => undefined);
        if (!conn) return undefined;
        const r = conn.readable.getReader();
        const { value } = await r.read();
        await conn.writable.close().catch(() => undefined);
        return value ? new TextDecoder().decode(value) : undefined;
      });
      expect(got).toBe("hello-host\n");
      await rt.removePodSandbox(sb);
    });

    test("resources and securityContext reach Docker and take effect", async () => {
      const { id, config } = await run(
        {},
        {
          command: ["/bin/sh", "-c", "id -u; id -g; touch /x 2>/dev/null && echo writable || echo read-only; grep CapEff /proc/self/status; exec sleep 3600"],
          resources: { cpuMillis: 250, cpuRequestMillis: 100, memoryBytes: 32 * 1024 * 1024 },
          securityContext: { runAsUser: 65534, runAsGroup: 65534, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
        },
      );
      const out = await until("the container's report", () => {
        const t = texts(config.logPath);
        return t.length >= 4 ? t : undefined;
      });
      expect(out.slice(0, 3)).toEqual(["65534", "65534", "read-only"]);
      expect(out[3]).toMatch(/^CapEff:\s+0+$/);
      const i = await rt.engine.json("GET", `/containers/${id}/json`);
      expect(i.HostConfig).toMatchObject({ NanoCpus: 250_000_000, CpuShares: 102, Memory: 32 * 1024 * 1024, ReadonlyRootfs: true, CapDrop: ["ALL"] });
      await rt.stopContainer(id, 0);
    });

    test("a memory limit is enforced: exceeding it is OOMKilled", async () => {
      const { id } = await run({}, { command: ["/bin/sh", "-c", "x=0123456789abcdef; while :; do x=$x$x; done"], resources: { memoryBytes: 16 * 1024 * 1024 } });
      const s = await until("the container to exit", async () => {
        const st = await rt.containerStatus(id);
        return st?.state === "exited" ? st : undefined;
      }, 30_000);
      expect(s).toMatchObject({ reason: "OOMKilled", exitCode: 137 });
    });

    test("a command that does not exist: start rejects, the container is exited with StartError", async () => {
      const sbc = sandboxConfig();
      const sb = await rt.runPodSandbox(sbc);
      const id = await rt.createContainer(sb, containerConfig(sbc, { command: ["/no/such/binary"] }), sbc);
      await expect(rt.startContainer(id)).rejects.toThrow(/no such file|not found/i);
      const s = await rt.containerStatus(id);
      expect(s).toMatchObject({ state: "exited", reason: "StartError" });
      expect(s!.exitCode).not.toBe(0);
    });

    test("exec with a TTY merges output and reports the exit code", async () => {
      const { id } = await run({}, { command: ["/bin/sh", "-c", "trap 'exit 143' TERM; while :; do sleep 1 & wait $!; done"] });
      const chunks: Uint8Array[] = [];
      const code = await rt.exec(id, ["/bin/sh", "-c", "tty; echo err >&2; exit 3"], { tty: true, stdout: new WritableStream({ write: (c) => void chunks.push(c) }) });
      expect(code).toBe(3);
      const out = Buffer.concat(chunks).toString();
      expect(out).toMatch(/\/dev\/pts\/\d+/);
      expect(out).toContain("err");
    });
  });

  describe("docker: pulls with registry auth (htpasswd)", () => {
    let secured: TestRegistry;
    let rt: DockerRuntime;
    let name: string;
    beforeAll(async () => {
      secured = await startRegistry({ users: { alice: "s3cret-pass" } });
      // Docker pulls from 127.0.0.0/8 over plain HTTP without configuration.
      await pushArchive(archive, secured.host, "private/busybox", "2", { username: "alice", password: "s3cret-pass" });
      name = `${secured.host}/private/busybox:2`;
      rt = open();
    });
    afterAll(async () => {
      await secured?.stop();
    });

    test("without credentials the pull fails and nothing is stored", async () => {
      await expect(rt.pullImage(name)).rejects.toThrow(/401|unauthorized|authoriz|no basic auth/i);
      expect(await rt.imageStatus(name)).toBeNull();
    });

    test("wrong credentials fail", async () => {
      await expect(rt.pullImage(name, { serverAddress: secured.host, username: "alice", password: "wrong" })).rejects.toThrow(/401|unauthorized|authoriz/i);
      expect(await rt.imageStatus(name)).toBeNull();
    });

    test("username/password pull the image; the ref is the image's id", async () => {
      const ref = await rt.pullImage(name, { serverAddress: secured.host, username: "alice", password: "s3cret-pass" });
      expect(ref).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect((await rt.imageStatus(name))?.ref).toBe(ref);
      expect((await rt.listImages()).find((i) => i.tags.includes(name))?.ref).toBe(ref);
      await rt.removeImage(name);
      expect(await rt.imageStatus(name)).toBeNull();
    });

    test("docker-config style `auth` (base64 user:password) works too", async () => {
      const auth = Buffer.from("alice:s3cret-pass").toString("base64");
      const ref = await rt.pullImage(name, { serverAddress: secured.host, auth });
      expect((await rt.imageStatus(name))?.ref).toBe(ref);
      await rt.removeImage(name);
    });
  });
}
