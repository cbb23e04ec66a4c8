/**
 * @module Watch streaming: one JSON event per line, flushed as it happens,
 * over a chunked 200 response. resourceVersion "" or "0" first sends the
 * current objects as ADDED; N sends changes after N; a compacted N ends with
 * an ERROR event carrying a 410 Expired Status. `timeoutSeconds` ends the
 * stream; a consumer too slow for the store's queue gets the stream closed
 * and resumes from its last resourceVersion.
 */
import { ApiError, errors } from "../../api/errors.ts";
import { type ChannelEvent, deepFreeze, FREEZE_SHARED_OBJECTS, objectSinkOf, sharedWithoutManagedFields } from "../../api/object-channel.ts";
import type { WatchEvent, WatchOptions } from "../../store/types.ts";
import { parseResourceVersion, queryBool, queryInt, querySelectors } from "../request.ts";
import { negotiate } from "../respond.ts";
import { includeObjectParam, table } from "../table.ts";
import type { HandlerContext } from "./context.ts";

/** Without timeoutSeconds, kube-apiserver ends a watch after 30–60 minutes. */
const DEFAULT_TIMEOUT_S = 1800;

export function watchObjects(ctx: HandlerContext): Response {
  const q = ctx.query;
  const { type } = ctx;
  const sel = querySelectors(q, type);
  const rv = parseResourceVersion(q.get("resourceVersion"));
  const sendInitial = q.get("sendInitialEvents");
  const match = q.get("resourceVersionMatch") ?? "";
  if (sendInitial !== null && match !== "NotOlderThan") {
    throw errors.invalid({
      kind: "ListOptions",
      group: "meta.k8s.io",
      name: "",
      causes: [{ reason: "FieldValueNotSupported", field: "resourceVersionMatch", message: `Unsupported value: "${match}": supported values: "NotOlderThan"` }],
    });
  }
  if (match !== "" && sendInitial === null) {
    throw errors.invalid({
      kind: "ListOptions",
      group: "meta.k8s.io",
      name: "",
      causes: [{ reason: "FieldValueForbidden", field: "resourceVersionMatch", message: "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided" }],
    });
  }
  const opts: WatchOptions = { ...sel, bookmarks: queryBool(q, "allowWatchBookmarks") };
  if (type.namespaced && ctx.path.namespace !== undefined) opts.namespace = ctx.namespace;
  if (rv === undefined || rv === 0 || (sendInitial !== null && queryBool(q, "sendInitialEvents"))) {
    opts.sendInitialEvents = true;
  } else {
    opts.fromRevision = rv;
  }
  const timeoutS = queryInt(q, "timeoutSeconds") ?? DEFAULT_TIMEOUT_S * (1 + Math.random());
  const asTable = negotiate(ctx.req.headers.get("accept")) === "table";
  const include = includeObjectParam(q.get("includeObject"));
  const watch = ctx.deps.store.watch(type, opts);
  const enc = new TextEncoder();
  // An in-process client that asked for objects (core/api/object-channel.ts) gets them without a JSON round trip.
  const sink = asTable ? undefined : objectSinkOf(ctx.req);
  const NEWLINE = enc.encode("\n");
  let first = true;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const line = (e: WatchEvent): string => {
    if (asTable && e.type !== "BOOKMARK") {
      const t = table(type, [e.object], { include, resourceVersion: String(e.revision), withColumns: first });
      first = false;
      return `{"type":"${e.type}","object":${JSON.stringify(t)}}\n`;
    }
    return `{"type":"${e.type}","object":${e.raw}}\n`;
  };

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      // Headers must reach the client now (kube-apiserver flushes them), but some
      // runtimes (Bun) send nothing until the first body byte. A newline is the
      // smallest byte every watch decoder skips: client-go's JSON framer,
      // client-node's line reader, and python-kubernetes' line splitter.
      controller.enqueue(enc.encode("\n"));
      timer = setTimeout(() => {
        watch.close();
      }, timeoutS * 1000);
      (timer as { unref?: () => void }).unref?.();
    },
    async pull(controller) {
      try {
        const batch = await watch.nextBatch();
        if (batch === null) {
          clearTimeout(timer);
          controller.close();
          return;
        }
        if (sink) {
          const events: ChannelEvent[] = new Array(batch.length);
          for (let i = 0; i < batch.length; i++) {
            const e = batch[i]!;
            const object = FREEZE_SHARED_OBJECTS ? deepFreeze(e.object) : e.object;
            events[i] = { type: e.type, object: sink.stripManagedFields ? sharedWithoutManagedFields(object) : object };
          }
          sink.push(events);
          controller.enqueue(NEWLINE);
          return;
        }
        let out = "";
        for (const e of batch) out += line(e);
        controller.enqueue(enc.encode(out));
      } catch (e) {
        clearTimeout(timer);
        if (e instanceof ApiError && e.code === 410) {
          controller.enqueue(enc.encode(`{"type":"ERROR","object":${JSON.stringify(e.toStatus())}}\n`));
        }
        // A cut-off (too slow) or any other failure ends the stream; clients resume from their last resourceVersion.
        controller.close();
      }
    },
    cancel() {
      clearTimeout(timer);
      watch.close();
    },
  });
  return new Response(body, {
    status: 200,
    headers: { "content-type": "application/json", "cache-control": "no-cache, private", "transfer-encoding": "chunked" },
  });
}
