/**
 * Third-party plugins end to end: `skiff plugins add` installs the example
 * package (examples/plugins/greetings) into a fresh data dir, the server is
 * restarted on that dir, and kubectl drives the kind and controller the
 * plugin adds. Then: bad plugin config and bad flags are one-line errors with
 * a non-zero exit, and `plugins remove` takes the kind away again.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { haveKubectl, ROOT, skiff, startServer, tempDir, type TestServer, until } from "./harness.ts";
import { describeWith } from "./require.ts";

setDefaultTimeout(120_000);

const EXAMPLE = join(ROOT, "examples", "plugins", "greetings");


describeWith("third-party plugins (skiff plugins add, kubectl)", haveKubectl(), "kubectl", () => {
  let dir: string;
  let data: string;
  let server: TestServer | undefined;

  beforeAll(() => {
    dir = tempDir("skiff-plugins-");
    data = join(dir, "data");
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("plugins add installs the package and records it in skiff.yaml", () => {
    const r = skiff(["plugins", "add", EXAMPLE, "--data-dir", data]);
    expect(r.err).not.toContain("skiff:");
    expect(r.code).toBe(0);
    expect(r.out).toContain("installed greetings 1.0.0 (package skiff-plugin-greetings)");
    expect(readFileSync(join(data, "skiff.yaml"), "utf8")).toContain("greetings:\n    enabled: true");
    expect(readFileSync(join(data, "plugins", "package.json"), "utf8")).toContain('"skiff-plugin-greetings"');
    const list = skiff(["plugins", "list", "--data-dir", data]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^greetings\s+1\.0\.0\s+skiff-plugin-greetings\s+yes/m);
  });

  test("a directory that is not a plugin is refused and left uninstalled", () => {
    const notPlugin = join(dir, "not-a-plugin");
    Bun.spawnSync(["mkdir", "-p", notPlugin]);
    writeFileSync(join(notPlugin, "package.json"), JSON.stringify({ name: "not-a-plugin", version: "1.0.0", type: "module", exports: "./index.js" }));
    writeFileSync(join(notPlugin, "index.js"), "export const x = 1;\n");
    const r = skiff(["plugins", "add", notPlugin, "--data-dir", data]);
    expect(r.code).toBe(1);
    expect(r.err.trim().split("\n").at(-1)).toBe('skiff: package "not-a-plugin" does not export a plugin (a default export with a manifest { name, version })');
    expect(readFileSync(join(data, "skiff.yaml"), "utf8")).not.toContain("not-a-plugin");
    expect(readFileSync(join(data, "plugins", "package.json"), "utf8")).not.toContain("not-a-plugin");
  });

  test("after a restart the plugin's kind and controller work through kubectl", async () => {
    server = await startServer("bun", [], { dir });
    const k = server;
    expect(k.k(["api-resources", "--api-group=greetings.example.skiff.dev"])).toMatch(/greetings\s+greet\s+greetings\.example\.skiff\.dev\/v1alpha1\s+true\s+Greeting/);
    expect(k.k(["explain", "greeting.spec.name"])).toContain("Who to greet.");
    k.k(["apply", "-f", join(EXAMPLE, "greeting.yaml")]);
    const message = await until("the greeting's status", () => {
      const out = k.kubectl(["get", "greeting", "world", "-o", "jsonpath={.status.message}"]).out;
      return out || undefined;
    });
    expect(message).toBe("Bonjour, World!");
    expect(k.k(["get", "configmap", "greeting-world", "-o", "jsonpath={.data.message}"])).toBe("Bonjour, World!");
    expect(k.k(["get", "greetings"])).toMatch(/world\s+Bonjour, World!/);
    // A change of spec is reconciled into the ConfigMap.
    k.k(["patch", "greeting", "world", "--type=merge", "-p", '{"spec":{"language":"de"}}']);
    await until("the updated ConfigMap", () =>
      k.kubectl(["get", "configmap", "greeting-world", "-o", "jsonpath={.data.message}"]).out === "Hallo, World!" ? true : undefined,
    );
    // The controller's Event is shown by describe.
    expect(k.k(["describe", "greeting", "world"])).toMatch(/Rendered\s+.*created ConfigMap greeting-world/);
    // Deleting the Greeting garbage-collects the ConfigMap it owns.
    k.k(["delete", "greeting", "world"]);
    await until("the ConfigMap to be collected", () =>
      k.kubectl(["get", "configmap", "greeting-world"]).code !== 0 ? true : undefined,
    );
    expect(k.k(["get", "--raw", "/readyz?verbose"])).toContain("[+]plugin/greetings ok");
    await server.stop();
    server = undefined;
  });

  test("bad plugin config stops start-up with one line naming the plugin, field and reason", () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, `dataDir: ${data}\nplugins:\n  greetings:\n    config:\n      workers: 0\n`);
    const r = skiff(["server", "--config", file, "--listen", "127.0.0.1:0"]);
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe('skiff: plugin "greetings": config.workers: must be >= 1');
    writeFileSync(file, `dataDir: ${data}\nplugins:\n  greeting:\n    enabled: false\n`);
    const r2 = skiff(["server", "--config", file, "--listen", "127.0.0.1:0"]);
    expect(r2.code).toBe(1);
    expect(r2.err.trim()).toMatch(/^skiff: plugin "greeting" is configured but not installed \(installed: .*greetings.*\)$/);
  });

  test("bad flags are one-line errors with a non-zero exit", () => {
    const cases: [string[], RegExp][] = [
      [["server", "--listen", "nope"], /^error: option '--listen <host:port>' argument 'nope' is invalid\. expected HOST:PORT, got "nope"$/],
      [["server", "--preset", "everything"], /^error: option '--preset <name>' argument 'everything' is invalid\. Allowed choices are all-in-one, server, agent\.$/],
      [["server", "--bogus"], /^error: unknown option '--bogus'$/],
      [["agent", "--token", "t"], /^skiff: --server is required/],
      [["plugins", "remove", "nothing-here", "--data-dir", data], /^skiff: no installed plugin named "nothing-here"/],
    ];
    for (const [args, want] of cases) {
      const r = skiff(args);
      expect(r.code).not.toBe(0);
      expect(r.err.split("\n")[0]!).toMatch(want);
    }
  });

  test("plugins remove uninstalls it; the next start no longer serves the kind", async () => {
    const r = skiff(["plugins", "remove", "greetings", "--data-dir", data]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("removed greetings");
    expect(readFileSync(join(data, "skiff.yaml"), "utf8")).not.toContain("greetings");
    expect(readFileSync(join(data, "plugins", "package.json"), "utf8")).not.toContain("skiff-plugin-greetings");
    await server?.stop(); // left running if an earlier test failed half-way
    server = await startServer("bun", [], { dir });
    const res = server.kubectl(["get", "greetings"]);
    expect(res.code).not.toBe(0);
    expect(res.err).toContain('the server doesn\'t have a resource type "greetings"');
  });
});

describeWith("replacing the default scheduler with an example plugin", haveKubectl(), "kubectl", () => {
  let dir: string;
  let server: TestServer | undefined;

  beforeAll(() => {
    dir = tempDir("skiff-replace-");
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("with scheduler disabled by config, simple-scheduler places the pods", async () => {
    const data = join(dir, "data");
    const add = skiff(["plugins", "add", join(ROOT, "examples", "plugins", "simple-scheduler"), "--data-dir", data]);
    expect(add.code).toBe(0);
    writeFileSync(join(data, "skiff.yaml"), "preset: server\nplugins:\n  scheduler:\n    enabled: false\n  simple-scheduler:\n    enabled: true\n");
    server = await startServer("bun", [], { dir });
    const k = server;
    const ready = k.k(["get", "--raw", "/readyz?verbose"]);
    expect(ready).toContain("[+]plugin/simple-scheduler ok");
    expect(ready).not.toContain("plugin/scheduler ");
    const nodes = ["node-a", "node-b"].map((n) => `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${n}\n`).join("---\n");
    k.k(["apply", "-f", "-"], { input: nodes });
    const pods = [1, 2, 3, 4]
      .map((i) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p${i}\nspec:\n  containers:\n  - name: c\n    image: busybox\n`)
      .join("---\n");
    k.k(["apply", "-f", "-"], { input: pods });
    const placed = await until("all pods bound", () => {
      const out = k.kubectl(["get", "pods", "-o", "jsonpath={range .items[*]}{.spec.nodeName}{\"\\n\"}{end}"]).out.trim().split("\n");
      return out.length === 4 && out.every((n) => n !== "") ? out : undefined;
    });
    expect(placed.filter((n) => n === "node-a").length).toBe(2);
    expect(placed.filter((n) => n === "node-b").length).toBe(2);
    expect(k.k(["describe", "pod", "p1"])).toMatch(/Scheduled\s+.*Successfully assigned default\/p1 to node-[ab] by simple-scheduler/);
  });
});

describeWith("skiff server --fake-nodes", haveKubectl(), "kubectl", () => {
  let server: TestServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });
  test("registers N Ready simulated nodes", async () => {
    server = await startServer("bun", ["--fake-nodes", "3"]);
    const k = server;
    const names = await until("3 Ready nodes", () => {
      const out = k.kubectl(["get", "nodes", "-o", "jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}"]).out.trim();
      const lines = out ? out.split("\n") : [];
      return lines.filter((l) => l.endsWith(" True")).length === 3 ? lines.map((l) => l.split(" ")[0]) : undefined;
    });
    expect(names.sort()).toEqual(["fake-node-0", "fake-node-1", "fake-node-2"]);
  });
});
