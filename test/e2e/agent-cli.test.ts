/**
 * `skiff agent --containerd-socket / --docker-socket`: the same flags and the
 * same check before anything starts as `skiff server`'s — a missing socket,
 * or a path where no daemon answers, is one line on stderr and exit 1 (the
 * server given is never contacted). No daemon is needed.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { skiff, tempDir } from "./harness.ts";

const dir = tempDir("skiff-e2e-agent-cli-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `skiff agent` against a server nobody listens on (port 1 of loopback): the check must fail first. */
const agent = (...flags: string[]) => skiff(["agent", "--server", "https://127.0.0.1:1", "--token", `K10${"0".repeat(64)}::abcdef.0123456789abcdef`, "--node-name", "cli", "--data-dir", join(dir, "data"), ...flags]);

describe("skiff agent runtime socket flags", () => {
  test("--help lists them", () => {
    const r = skiff(["agent", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("--containerd-socket <path>");
    expect(r.out).toContain("--docker-socket <path>");
  });

  for (const name of ["containerd", "docker"]) {
    test(`--runtime ${name} with a missing socket: one line, exit 1`, () => {
      const sock = join(dir, `${name}-missing.sock`);
      const r = agent("--runtime", name, `--${name}-socket`, sock);
      expect(r.code).toBe(1);
      expect(r.err).toBe(`skiff: cannot reach ${name}: no socket at ${sock}; is ${name} running? (--${name}-socket sets its path)\n`);
    });

    test(`--runtime ${name} with a path where no daemon answers: one line, exit 1`, () => {
      const notDaemon = join(dir, `${name}-not-a-socket`);
      writeFileSync(notDaemon, "");
      const r = agent("--runtime", name, `--${name}-socket`, notDaemon);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(new RegExp(`^skiff: cannot reach ${name} at ${notDaemon.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: [^\n]+\n$`));
    });
  }

  test("the other runtime's flag is accepted and ignored: the process runtime needs no socket and goes on to the server", () => {
    const r = agent("--runtime", "process", "--containerd-socket", join(dir, "unused.sock"));
    expect(r.code).toBe(1);
    expect(r.err).not.toContain("cannot reach containerd");
    expect(r.err).toContain("127.0.0.1:1");
  });
});
