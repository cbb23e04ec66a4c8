/**
 * @module Profiles the create path in-process (the Hono app's fetch, no
 * sockets): POSTs `--pods N` (default 3,000) realistic ~1 KB pods
 * concurrently and prints creates/s. `--warmup N` first creates N pods
 * untimed (JIT warm-up); `--rounds N` repeats the timed batch and also prints
 * the median. Run with `bun --cpu-prof` to profile.
 */
import { createKernel } from "../../core/kernel.ts";
import { realisticPod } from "./common.ts";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} needs a non-negative integer`);
  return v;
}

const count = flag("pods", 3000);
const warmup = flag("warmup", 0);
const rounds = Math.max(1, flag("rounds", 1));
const k = await createKernel({ memory: true });
let serial = 0;

async function createBatch(n: number): Promise<number> {
  const bodies = Array.from({ length: n }, () => {
    const i = serial++;
    const p = realisticPod(`p${i}`, "default", i);
    delete (p.metadata as { ownerReferences?: unknown }).ownerReferences;
    return JSON.stringify(p);
  });
  const t0 = performance.now();
  await Promise.all(
    bodies.map(async (body) => {
      const req = new Request("http://x/api/v1/namespaces/default/pods", { method: "POST", headers: { "content-type": "application/json" }, body });
      const res = await k.api.app.fetch(req);
      if (res.status !== 201) throw new Error(`${res.status}: ${await res.text()}`);
      await res.text();
    }),
  );
  return Math.round(n / ((performance.now() - t0) / 1000));
}

if (warmup > 0) await createBatch(warmup);
const rates: number[] = [];
for (let r = 0; r < rounds; r++) {
  const rate = await createBatch(count);
  rates.push(rate);
  console.log("creates/s in-process", rate);
}
if (rounds > 1) console.log("median creates/s in-process", [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)]);
await k.stop();
