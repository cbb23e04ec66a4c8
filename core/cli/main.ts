#!/usr/bin/env bun
/**
 * @module The `skiff` command. `skiff server` runs the all-in-one server on
 * its embedded defaults (data in ./.skiff, API on 127.0.0.1:6443).
 */
import { Command, InvalidArgumentError } from "commander";
import { createKernel } from "../kernel.ts";
import { logger } from "../log.ts";

function hostPort(v: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`expected HOST:PORT, got ${JSON.stringify(v)}`);
  }
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port };
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

const program = new Command("skiff")
  .description("A Kubernetes-compatible orchestrator for edge and homelab clusters")
  .configureOutput({ outputError: (s, write) => write(s.split("\n")[0] + "\n") });

program
  .command("server")
  .description("run the API server (all-in-one)")
  .option("--data-dir <dir>", "where the database and kubeconfig.yaml live", ".skiff")
  .option("--listen <host:port>", "address to serve the API on", hostPort, { host: "127.0.0.1", port: 6443 })
  .option("--memory", "keep everything in memory (nothing is written to the data dir but the kubeconfig)")
  .option("--history-revisions <n>", "most revisions kept for watch resumes and paged lists", positiveInt)
  .option("--history-age <seconds>", "oldest history kept, in seconds", positiveInt)
  .action(async (o: { dataDir: string; listen: { host: string; port: number }; memory?: boolean; historyRevisions?: number; historyAge?: number }) => {
    const log = logger("cli");
    const retention = {
      ...(o.historyRevisions !== undefined ? { maxRevisions: o.historyRevisions } : {}),
      ...(o.historyAge !== undefined ? { maxAgeMs: o.historyAge * 1000 } : {}),
    };
    const kernel = await createKernel({
      dataDir: o.dataDir,
      listen: o.listen,
      ...(o.memory ? { memory: true } : {}),
      store: { retention },
    });
    log.info({ url: kernel.url, kubeconfig: kernel.kubeconfigPath }, "serving");
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, "shutting down");
      await kernel.stop();
      process.exit(0);
    };
    process.on("SIGINT", () => void stop("SIGINT"));
    process.on("SIGTERM", () => void stop("SIGTERM"));
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.stderr.write(`skiff: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
