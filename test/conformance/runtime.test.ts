/**
 * Runs the RuntimeAdapter conformance suite against the built-in adapters:
 * fake always; process always (its network namespace, cgroup and mount cases
 * run when this process is root, and clean up every namespace, veth, bridge
 * and cgroup they create).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeRuntime, FakeWorld } from "../../runtime-adapters/fake/index.ts";
import { ProcessRuntime } from "../../runtime-adapters/process/index.ts";
import { removeLeftovers } from "../../runtime-adapters/process/testing.ts";
import { runtimeConformance } from "./runtime-suite.ts";

{
  const dir = mkdtempSync(join(tmpdir(), "skiff-conf-fake-"));
  const world = new FakeWorld();
  let first: FakeRuntime | undefined;
  runtimeConformance("fake", {
    dir,
    create: () => (first = new FakeRuntime({ world })),
    reopen: () => new FakeRuntime({ world }),
    workload(w) {
      const b = (behavior: object) => ({ annotations: { "fake.skiff.dev/behavior": JSON.stringify(behavior) } });
      switch (w.kind) {
        case "run":
          return b(w.stdout ? { stdout: [w.stdout] } : {});
        case "exit":
          return b({ exitCode: w.code, runMs: 20, ...(w.stdout ? { stdout: [w.stdout] } : {}), ...(w.stderr ? { stderr: [w.stderr] } : {}) });
        case "ignore-term":
          return b({ ignoreSigterm: true, stdout: ["ready"] });
        case "print-env":
          return b({ echoEnv: w.names });
        default:
          throw new Error(`the fake runtime cannot run ${w.kind}`);
      }
    },
    execCommand(w) {
      switch (w.kind) {
        case "echo":
          return ["echo", w.text];
        case "exit":
          return ["exit", String(w.code)];
        case "cat":
          return ["cat"];
        case "sleep":
          return ["sleep", String(w.seconds)];
      }
    },
    async cleanup() {
      first?.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

{
  const dir = mkdtempSync(join(tmpdir(), "skiff-conf-process-"));
  const tag = Math.random().toString(16).slice(2, 6);
  // Names and a subnet nobody else uses, so cleanup can find every leftover by prefix.
  const opts = {
    stateDir: join(dir, "state"),
    bridge: `sktb${tag}`,
    subnet: `10.213.${Number.parseInt(tag, 16) % 250}.0/24`,
    netnsPrefix: `skt-${tag}-`,
    vethPrefix: `t${tag}`,
    cgroupParent: `skiff-test-${tag}`,
  };
  let first: ProcessRuntime | undefined;
  const sh = (script: string) => ({ command: ["sh", "-c", script] });
  runtimeConformance("process", {
    dir,
    create: () => (first = new ProcessRuntime(opts)),
    reopen: () => new ProcessRuntime(opts),
    workload(w) {
      switch (w.kind) {
        case "run":
          return sh(`${w.stdout ? `echo ${w.stdout}; ` : ""}exec sleep 3600`);
        case "exit":
          return sh(`${w.stdout ? `echo ${w.stdout}; ` : ""}${w.stderr ? `echo ${w.stderr} >&2; ` : ""}sleep 0.05; exit ${w.code}`);
        case "ignore-term":
          return sh(`trap '' TERM; echo ready; while :; do sleep 0.1; done`);
        case "print-env":
          return sh(`${w.names.map((n) => `echo "${n}=$${n}"; `).join("")}exec sleep 3600`);
        case "read-file":
          return sh(`cat ${w.path}; exec sleep 3600`);
        case "listen":
          return {
            command: [
              process.execPath,
              "-e",
              `Bun.listen({ hostname: "0.0.0.0", port: ${w.port}, socket: { open(s) { s.write("hello\\n"); }, data(s, d) { s.write(d); } } }); setInterval(() => {}, 1e9);`,
            ],
          };
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
    async cleanup() {
      try {
        await first?.removeAll();
      } finally {
        await removeLeftovers(opts);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  });
}
