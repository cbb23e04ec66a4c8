/**
 * @module Regenerates `kubectl-fixtures.json`: runs the real kubectl 1.32
 * (`/usr/bin/kubectl`) against the throwaway recorder in `capture-server.ts`,
 * keeps every protobuf request body it sends, and for `create` commands also
 * records the object kubectl prints with `--dry-run=client -o json`. It also
 * records Go's JSON for the typed objects in `typed-manifests.ts`
 * (`kubectl set image --local -o json`).
 *
 * Run from the repository root: `npx bun core/server/protobuf/testdata/capture.ts`.
 * Not imported by the tests; the committed fixtures make them kubectl-free.
 */

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeKubernetesProtobuf } from "../index.ts";
import { startRecorder, type ServerState } from "./capture-server.ts";
import { RICH_CRONJOB } from "./rich-cronjob.ts";
import { TYPED_MANIFESTS } from "./typed-manifests.ts";

const KUBECTL = "/usr/bin/kubectl";
const PROTOBUF = "application/vnd.kubernetes.protobuf";
const OUT = join(import.meta.dirname, "kubectl-fixtures.json");

interface Scenario {
  name: string;
  args: string[];
  /** Also capture `--dry-run=client -o json` (create commands only). */
  dryRun: boolean;
  state?: Partial<ServerState>;
  /** Observed to send no protobuf body (recorded anyway as evidence). */
  jsonOnly?: boolean;
}

/** Inserts flags before a `--` (which starts the container command) or at the end. */
function withFlags(args: string[], ...flags: string[]): string[] {
  const dash = args.indexOf("--");
  return dash < 0 ? [...args, ...flags] : [...args.slice(0, dash), ...flags, ...args.slice(dash)];
}

function create(name: string, ...args: string[]): Scenario {
  return { name, args: withFlags(["create", ...args], "--validate=false"), dryRun: true };
}

function scenarios(files: { bin: string }): Scenario[] {
  return [
    create("namespace", "namespace", "ns1"),
    create("configmap-literal", "configmap", "c", "--from-literal=k=v", "--from-literal=k2=v2"),
    create("configmap-binary", "configmap", "cbin", `--from-file=bin=${files.bin}`, "--from-literal=a=b"),
    create("secret-generic", "secret", "generic", "s", "--from-literal=a=b", "--from-literal=password=s3cr3t", "--type=Opaque"),
    create("secret-binary", "secret", "generic", "sbin", `--from-file=key.bin=${files.bin}`),
    create(
      "secret-docker-registry",
      "secret",
      "docker-registry",
      "reg",
      "--docker-server=r.example.com",
      "--docker-username=u",
      "--docker-password=p",
      "--docker-email=e@example.com",
    ),
    create("service-clusterip", "service", "clusterip", "svc", "--tcp=80:8080", "--tcp=443:8443"),
    create("service-headless", "service", "clusterip", "headless", "--clusterip=None", "--tcp=5678:8080"),
    create("service-nodeport", "service", "nodeport", "np", "--tcp=80:8080", "--node-port=30080"),
    create("service-loadbalancer", "service", "loadbalancer", "lb", "--tcp=80:http"),
    create("service-externalname", "service", "externalname", "ext", "--external-name=example.com"),
    create("serviceaccount", "serviceaccount", "sa"),
    create("deployment", "deployment", "web", "--image=nginx:1.27", "--replicas=3", "--port=80"),
    create("deployment-command", "deployment", "cmd", "--image=busybox", "--", "sleep", "3600"),
    create("deployment-multi-image", "deployment", "multi", "--image=nginx", "--image=redis:7"),
    create("job", "job", "j", "--image=busybox", "--", "echo", "hi"),
    { ...create("job-from-cronjob", "job", "rich", "--from=cronjob/rich"), state: { cronJob: RICH_CRONJOB } },
    create("cronjob", "cronjob", "cj", "--image=busybox", "--schedule=*/1 * * * *", "--restart=OnFailure", "--", "date"),
    create("role", "role", "r", "--verb=get", "--verb=list", "--resource=pods", "--resource=deployments.apps", "--resource-name=a"),
    create("clusterrole", "clusterrole", "cr", "--verb=get", "--non-resource-url=/healthz", "--non-resource-url=/logs/*"),
    create("clusterrole-aggregate", "clusterrole", "agg", "--aggregation-rule=rbac.example.com/aggregate=true"),
    create("rolebinding", "rolebinding", "rb", "--role=r", "--user=alice", "--group=devs", "--serviceaccount=default:sa"),
    create("clusterrolebinding", "clusterrolebinding", "crb", "--clusterrole=view", "--user=u"),
    create("quota", "quota", "q", "--hard=pods=10,cpu=1500m,memory=2Gi,requests.storage=10Gi", "--scopes=NotTerminating"),
    create("priorityclass", "priorityclass", "pc", "--value=1000", "--description=high", "--preemption-policy=Never"),
    create("priorityclass-zero-default", "priorityclass", "pcd", "--value=0", "--global-default"),
    create("poddisruptionbudget-min", "poddisruptionbudget", "pdb", "--selector=app=web", "--min-available=1"),
    create("poddisruptionbudget-max", "poddisruptionbudget", "pdb2", "--selector=app=web,tier in (a,b),!legacy", "--max-unavailable=50%"),
    create("ingress", "ingress", "ing", "--rule=foo.com/bar=svc:80"),
    create(
      "ingress-rich",
      "ingress",
      "ing2",
      "--class=nginx",
      "--rule=foo.com/path*=svc:http,tls=my-cert",
      "--rule=bar.com/=svc2:8080",
      "--default-backend=defsvc:8080",
      "--annotation=a=b",
    ),
    { name: "token", args: ["create", "token", "sa"], dryRun: false },
    {
      name: "token-options",
      args: ["create", "token", "sa", "--duration=10m", "--audience=https://example.com", "--bound-object-kind=Pod", "--bound-object-name=p1", "--bound-object-uid=55555555-5555-5555-5555-555555555555"],
      dryRun: false,
    },
    { name: "drain-evict", args: ["drain", "n1", "--timeout=20s"], dryRun: false, state: { eviction: true }, jsonOnly: true },
    { name: "drain-delete", args: ["drain", "n1", "--timeout=20s", "--disable-eviction", "--grace-period=30"], dryRun: false },
    { name: "debug-node", args: ["debug", "node/n1", "--image=busybox", "--profile=general"], dryRun: false },
  ];
}

function run(args: string[], port: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), "kubectl-capture-"));
  const kubeconfig = join(dir, "config");
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      `clusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]`,
      "users: [{name: u, user: {}}]",
      "contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]",
      "current-context: x",
      "",
    ].join("\n"),
  );
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, KUBECONFIG: kubeconfig };
  return new Promise((resolve) => {
    const child = spawn(KUBECTL, withFlags(args, `--cache-dir=${join(dir, "cache")}`), { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "kubectl-capture-files-"));
  const bin = join(work, "bin.dat");
  writeFileSync(bin, new Uint8Array([0x00, 0xff, 0xfe, 0x80, 0x41, 0x0a]));
  const fixtures: unknown[] = [];
  for (const sc of scenarios({ bin })) {
    const state: ServerState = { eviction: false, ...sc.state };
    const rec = await startRecorder(state, (req) => decodeKubernetesProtobuf(req.body));
    try {
      const live = await run(sc.args, rec.port);
      if (live.code !== 0) throw new Error(`${sc.name}: kubectl exited ${live.code}: ${live.stderr}`);
      // Every write is kept (drain's cordon PATCH and, in 1.32, its eviction POST are JSON);
      // the tests decode the protobuf ones.
      const requests = rec.requests.map((r) => ({ method: r.method, path: r.path, contentType: r.contentType, bodyBase64: Buffer.from(r.body).toString("base64") }));
      if (!requests.some((r) => r.contentType === PROTOBUF) && !sc.jsonOnly) {
        const seen = rec.requests.map((r) => `${r.method} ${r.path} ${r.contentType}`).join("\n");
        throw new Error(`${sc.name}: kubectl sent no protobuf body\n${live.stdout}${live.stderr}\n${seen}`);
      }
      let expected: unknown = null;
      if (sc.dryRun) {
        const dry = await run(withFlags(sc.args, "--dry-run=client", "-o", "json"), rec.port);
        if (dry.code !== 0) throw new Error(`${sc.name}: dry run exited ${dry.code}: ${dry.stderr}`);
        expected = JSON.parse(dry.stdout);
      }
      fixtures.push({ name: sc.name, args: sc.args, requests, expected });
      process.stdout.write(`captured ${sc.name}: ${requests.map((r) => `${r.method} ${r.contentType}`).join(", ")}\n`);
    } finally {
      rec.server.close();
    }
  }
  // Go's JSON for typed objects kubectl never sends as protobuf: `set image --local`
  // decodes the manifest into the typed object and prints it with encoding/json.
  const typedJson: unknown[] = [];
  const rec = await startRecorder({ eviction: false }, () => ({}));
  try {
    for (const [name, manifest] of Object.entries(TYPED_MANIFESTS)) {
      const file = join(work, `${name}.json`);
      writeFileSync(file, JSON.stringify(manifest));
      const args = ["set", "image", "--local", "-f", file, "*=nginx:1.28", "-o", "json", "--show-managed-fields"];
      const out = await run(args, rec.port);
      if (out.code !== 0) throw new Error(`typed ${name}: kubectl exited ${out.code}: ${out.stderr}`);
      typedJson.push({ name, object: JSON.parse(out.stdout) });
      process.stdout.write(`captured typed JSON for ${name}\n`);
    }
  } finally {
    rec.server.close();
  }
  rmSync(work, { recursive: true, force: true });
  const doc = { kubectl: "v1.32.4 (via /usr/bin/kubectl dispatcher)", fixtures, typedJson };
  writeFileSync(OUT, `${JSON.stringify(doc, null, 1)}\n`);
  process.stdout.write(`wrote ${OUT}\n`);
}

await main();
