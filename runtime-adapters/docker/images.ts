/**
 * @module Images in Docker: status, pulls with registry credentials
 * (`X-Registry-Auth`), the image store (list, remove, load an archive with
 * progress).
 */
import { createReadStream, statSync } from "node:fs";
import { Transform } from "node:stream";
import type { ImageInfo, ImportProgress, RegistryAuth } from "../../core/runtime/adapter.ts";
import { type Engine, EngineError, readAll, readJsonLines } from "./engine.ts";

const isNotFound = (e: unknown) => e instanceof EngineError && e.status === 404;

/** Splits `name[:tag]` / `name@digest` into the pull endpoint's `fromImage` and `tag`. */
function splitImage(image: string): { fromImage: string; tag: string } {
  const at = image.indexOf("@");
  if (at >= 0) return { fromImage: image.slice(0, at), tag: image.slice(at + 1) };
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  if (colon > slash) return { fromImage: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { fromImage: image, tag: "latest" };
}

/**
 * `X-Registry-Auth`: URL-safe base64 of Docker's AuthConfig JSON, padded —
 * Docker 20.10 decodes it with Go's padded `base64.URLEncoding` and silently
 * ignores a header it cannot decode.
 */
export function registryAuthHeader(auth: RegistryAuth): string {
  let { username, password } = auth;
  if ((!username || password === undefined) && auth.auth) {
    const plain = Buffer.from(auth.auth, "base64").toString("utf8");
    const i = plain.indexOf(":");
    if (i >= 0) [username, password] = [plain.slice(0, i), plain.slice(i + 1)];
  }
  const cfg = {
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(auth.auth ? { auth: auth.auth } : {}),
    serveraddress: auth.serverAddress,
    ...(auth.identityToken ? { identitytoken: auth.identityToken } : {}),
    ...(auth.registryToken ? { registrytoken: auth.registryToken } : {}),
  };
  return Buffer.from(JSON.stringify(cfg)).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

export async function imageStatus(engine: Engine, image: string): Promise<{ ref: string; size: number } | null> {
  try {
    const i = await engine.json("GET", `/images/${encodeURIComponent(image)}/json`);
    return { ref: i.Id, size: i.Size };
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
}

/** Present locally: its id, without asking a registry (offline images stay usable). Else pulls. */
export async function pullImage(engine: Engine, image: string, auth?: RegistryAuth): Promise<string> {
  const have = await imageStatus(engine, image);
  if (have) return have.ref;
  const res = await engine.open("POST", "/images/create", {
    query: splitImage(image),
    headers: auth ? { "X-Registry-Auth": registryAuthHeader(auth) } : {},
  });
  if ((res.statusCode ?? 0) >= 300) {
    const text = await readAll(res);
    let msg = text;
    try {
      msg = JSON.parse(text).message ?? text;
    } catch {
      // not JSON
    }
    throw new Error(`pulling ${image}: ${msg.trim()}`);
  }
  let error: string | undefined;
  await readJsonLines(res, (o) => {
    if (o.error) error = o.errorDetail?.message ?? o.error;
  });
  if (error) throw new Error(`pulling ${image}: ${error}`);
  const got = await imageStatus(engine, image);
  if (!got) throw new Error(`pulling ${image}: not present after the pull`);
  return got.ref;
}

export async function listImages(engine: Engine): Promise<ImageInfo[]> {
  const list: any[] = await engine.json("GET", "/images/json");
  return list.map((i) => ({ ref: i.Id, tags: (i.RepoTags ?? []).filter((t: string) => t !== "<none>:<none>"), size: i.Size }));
}

export async function removeImage(engine: Engine, image: string): Promise<void> {
  try {
    await engine.request("DELETE", `/images/${encodeURIComponent(image)}`);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

/** Streams a docker-save archive into `POST /images/load`, counting bytes for `onProgress`; resolves with the loaded names. */
export async function importImage(engine: Engine, archivePath: string, onProgress?: (p: ImportProgress) => void): Promise<string[]> {
  const total = statSync(archivePath).size;
  let done = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      done += chunk.length;
      onProgress?.({ done, total });
      cb(null, chunk);
    },
  });
  const stream = createReadStream(archivePath).pipe(counter);
  const res = await engine.open("POST", "/images/load", {
    query: { quiet: 1 },
    headers: { "content-type": "application/x-tar", "content-length": String(total) },
    stream,
  });
  if ((res.statusCode ?? 0) >= 300) throw new Error(`loading ${archivePath}: HTTP ${res.statusCode} ${(await readAll(res)).trim()}`);
  const names: string[] = [];
  let error: string | undefined;
  await readJsonLines(res, (o) => {
    if (o.error) error = o.errorDetail?.message ?? o.error;
    const m = /^Loaded image(?: ID)?: (\S+)/.exec(o.stream ?? "");
    if (m) names.push(m[1]!);
  });
  if (error) throw new Error(`loading ${archivePath}: ${error}`);
  if (done < total) onProgress?.({ done: total, total });
  return names;
}
