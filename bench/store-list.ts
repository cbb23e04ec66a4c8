/**
 * @module Scenario `store-list`: 10,000 realistic pods (~1 KB JSON each, 1%
 * labelled `sel=yes`) in one namespace of a file-backed store, then:
 * - list_10k_ms: `store.list(Pods, { namespace })` (10,000 items);
 * - list_selected_ms: the same with `labelSelector: sel=yes` (100 items);
 * - list_10k_body_ms: building the HTTP response body from that list's items
 *   (`{"kind":"PodList",…,"items":[` + item.raw joined by "," + `]}`), the part
 *   an API server adds on top of the store call; list_10k_body_encode_ms: its
 *   UTF-8 encoding (what a socket write costs on top); list_10k_plus_body_ms:
 *   list + body of the same run. Body timings use a fresh list per run.
 * Each is the median of 20 timed runs after 3 warm-up runs; p90s as extra keys.
 * `--quick`: 2,000 pods, 5 runs.
 */
import { join } from "node:path";
import { parseLabelSelector } from "../core/api/selectors.ts";
import { SqliteStore } from "../core/store/sqlite-store.ts";
import type { ListResult } from "../core/store/types.ts";
import { Pods } from "../test/fixtures/types.ts";
import { type BenchOptions, type BenchResult, percentiles, progress, realisticPod, round, storeFlags, withTempDir } from "./lib/common.ts";

const NAME = "store-list";
const NS = "team-a";

function listBody(r: ListResult): string {
  const items = new Array<string>(r.items.length);
  for (let i = 0; i < r.items.length; i++) items[i] = r.items[i]!.raw;
  const body = `{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"${r.revision}"},"items":[${items.join(",")}]}`;
  // Make sure the string is materialized (not a lazy rope) inside the timed region.
  body.charCodeAt(body.length >> 1);
  return body;
}

export async function main(_args: string[], opts: BenchOptions): Promise<BenchResult> {
  const pods = opts.quick ? 2_000 : 10_000;
  const runs = opts.quick ? 5 : 20;
  const warmup = 3;
  return withTempDir(async (dir) => {
    const store = await SqliteStore.open({ path: join(dir, "store.db"), ...storeFlags(opts) });
    try {
      // ---- fill (not timed as a metric): 256 concurrent creators.
      const t0 = performance.now();
      let next = 0;
      const creator = async () => {
        for (let i = next++; i < pods; i = next++) {
          const extra: Record<string, string> = i % 100 === 0 ? { sel: "yes" } : {};
          await store.create(Pods, realisticPod(`web-frontend-7c9d8f6b5d-${i.toString(36).padStart(5, "0")}`, NS, i, extra));
        }
      };
      await Promise.all(Array.from({ length: 256 }, creator));
      const sample = (await store.list(Pods, { namespace: NS, limit: 1 })).items[0]!.raw;
      progress(NAME, "fill", { pods, secs: (performance.now() - t0) / 1000, pod_bytes: Buffer.byteLength(sample) });

      const selector = parseLabelSelector("sel=yes");
      const listAll = new Float64Array(runs);
      const listSel = new Float64Array(runs);
      const body = new Float64Array(runs);
      const encode = new Float64Array(runs);
      const total = new Float64Array(runs);
      let itemsAll = 0;
      let itemsSel = 0;
      let bodyBytes = 0;
      const enc = new TextEncoder();
      // Each measurement in its own loop so one's garbage does not land in another's timings.
      for (let i = -warmup; i < runs; i++) {
        const s = performance.now();
        const all = await store.list(Pods, { namespace: NS });
        const t = performance.now() - s;
        if (i >= 0) listAll[i] = t;
        itemsAll = all.items.length;
      }
      for (let i = -warmup; i < runs; i++) {
        const s = performance.now();
        const sel = await store.list(Pods, { namespace: NS, labelSelector: selector });
        const t = performance.now() - s;
        if (i >= 0) listSel[i] = t;
        itemsSel = sel.items.length;
      }
      // Body building on a fresh list each time (fresh strings, as a real request gets).
      for (let i = -warmup; i < runs; i++) {
        let s = performance.now();
        const list = await store.list(Pods, { namespace: NS });
        const tList = performance.now() - s;
        s = performance.now();
        const b = listBody(list);
        const tBody = performance.now() - s;
        s = performance.now();
        bodyBytes = enc.encode(b).length;
        const tEnc = performance.now() - s;
        if (i >= 0) {
          body[i] = tBody;
          total[i] = tList + tBody;
          encode[i] = tEnc;
        }
      }
      const [allP50, allP90] = percentiles(listAll, [50, 90]);
      const [selP50, selP90] = percentiles(listSel, [50, 90]);
      const [bodyP50, bodyP90] = percentiles(body, [50, 90]);
      const [encP50] = percentiles(encode, [50]);
      const [totalP50, totalP90] = percentiles(total, [50, 90]);
      progress(NAME, "list", { items: itemsAll, p50_ms: allP50!, p90_ms: allP90!, body_p50_ms: bodyP50!, body_bytes: bodyBytes });
      progress(NAME, "list-selected", { items: itemsSel, p50_ms: selP50!, p90_ms: selP90! });
      return {
        metrics: {
          list_10k_ms: round(allP50!),
          list_selected_ms: round(selP50!),
          list_10k_p90_ms: round(allP90!),
          list_selected_p90_ms: round(selP90!),
          list_10k_body_ms: round(bodyP50!),
          list_10k_body_p90_ms: round(bodyP90!),
          list_10k_body_encode_ms: round(encP50!),
          list_10k_plus_body_ms: round(totalP50!),
          list_10k_plus_body_p90_ms: round(totalP90!),
          list_10k_items: itemsAll,
          list_selected_items: itemsSel,
          list_10k_body_bytes: bodyBytes,
          pod_bytes: Buffer.byteLength(sample),
          runs,
        },
        targets: { list_10k_ms: "<= 50", list_selected_ms: "<= 5" },
      };
    } finally {
      await store.close();
    }
  });
}
