/**
 * @module The keys that encrypt objects at rest, and the envelope they seal.
 *
 * A key set is a list of named AES-256 keys, one of them primary: new writes
 * use the primary, reads accept any key in the set (upstream's
 * EncryptionConfiguration with one `aesgcm` provider whose first key
 * encrypts). On disk it is `<dataDir>/encryption/keys.json`, mode 0600 in a
 * 0700 directory, created with one random key at first start.
 *
 * A sealed value is `k8s:enc:aesgcm:v1:<keyname>:<base64(nonce ‖ ciphertext ‖ tag)>`
 * (upstream's prefix; base64 because the store keeps JSON text). The nonce is
 * 12 random bytes per seal; the additional authenticated data is the
 * object's storage key, so a ciphertext moved to another object fails to open.
 * node:crypto, not WebCrypto: the store's `guaranteedUpdate` mutation is
 * synchronous, and node:crypto's AES-GCM is synchronous on Bun, Node and Deno.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const ENVELOPE_PREFIX = "k8s:enc:aesgcm:v1:";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface EncryptionKey {
  name: string;
  /** 32 bytes. */
  secret: Buffer;
  createdAt: string;
}

interface KeyFile {
  kind: "SkiffEncryptionKeys";
  version: 1;
  primary: string;
  keys: { name: string; secret: string; createdAt: string }[];
}

/** The path of a data dir's key file. */
export function keyFilePath(dataDir: string): string {
  return join(dataDir, "encryption", "keys.json");
}

export class KeySet {
  readonly #keys = new Map<string, EncryptionKey>();
  #primary: string;

  private constructor(keys: EncryptionKey[], primary: string) {
    for (const k of keys) this.#keys.set(k.name, k);
    if (!this.#keys.has(primary)) throw new Error(`encryption keys: the primary key "${primary}" is not in the key set`);
    this.#primary = primary;
  }

  /** A set with one fresh random key (memory-mode kernels, and a data dir's first start). */
  static generate(): KeySet {
    const k = newKey("key1");
    return new KeySet([k], k.name);
  }

  /** Parses a key file's text. Throws an Error naming what is wrong. */
  static parse(text: string): KeySet {
    let f: KeyFile;
    try {
      f = JSON.parse(text) as KeyFile;
    } catch (e) {
      throw new Error(`encryption keys: not JSON: ${(e as Error).message}`);
    }
    if (f?.kind !== "SkiffEncryptionKeys" || f.version !== 1 || !Array.isArray(f.keys) || typeof f.primary !== "string") {
      throw new Error("encryption keys: expected {kind: SkiffEncryptionKeys, version: 1, primary, keys: [...]}");
    }
    const keys = f.keys.map((k) => {
      const secret = Buffer.from(String(k?.secret ?? ""), "base64");
      if (typeof k?.name !== "string" || !KEY_NAME.test(k.name)) throw new Error(`encryption keys: bad key name ${JSON.stringify(k?.name)}`);
      if (secret.length !== KEY_BYTES) throw new Error(`encryption keys: key "${k.name}" is not ${KEY_BYTES} bytes`);
      return { name: k.name, secret, createdAt: String(k.createdAt ?? "") };
    });
    return new KeySet(keys, f.primary);
  }

  /** Reads `<dataDir>/encryption/keys.json`, creating it (one new key) when absent. */
  static loadOrCreate(dataDir: string): KeySet {
    const path = keyFilePath(dataDir);
    if (existsSync(path)) return KeySet.load(dataDir);
    const set = KeySet.generate();
    set.save(dataDir);
    return set;
  }

  /** Reads an existing key file. */
  static load(dataDir: string): KeySet {
    const path = keyFilePath(dataDir);
    if (!existsSync(path)) throw new Error(`no encryption keys at ${path} (the server creates them at first start)`);
    return KeySet.parse(readFileSync(path, "utf8"));
  }

  /** Writes the key file atomically (temp file + rename), mode 0600. */
  save(dataDir: string): void {
    const path = keyFilePath(dataDir);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    chmodSync(dirname(path), 0o700);
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, this.serialize(), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  }

  serialize(): string {
    const f: KeyFile = {
      kind: "SkiffEncryptionKeys",
      version: 1,
      primary: this.#primary,
      keys: [...this.#keys.values()].map((k) => ({ name: k.name, secret: k.secret.toString("base64"), createdAt: k.createdAt })),
    };
    return JSON.stringify(f, null, 2) + "\n";
  }

  get primary(): string {
    return this.#primary;
  }

  get names(): string[] {
    return [...this.#keys.keys()];
  }

  /** Adds a new random key and makes it primary; returns its name. */
  rotate(): string {
    let n = this.#keys.size + 1;
    while (this.#keys.has(`key${n}`)) n++;
    const k = newKey(`key${n}`);
    this.#keys.set(k.name, k);
    this.#primary = k.name;
    return k.name;
  }

  /** Drops every key but the primary; returns the dropped names. */
  pruneToPrimary(): string[] {
    const dropped = this.names.filter((n) => n !== this.#primary);
    for (const n of dropped) this.#keys.delete(n);
    return dropped;
  }

  /** Seals `plaintext` with the primary key, bound to `aad`. */
  seal(plaintext: string, aad: string): string {
    const key = this.#keys.get(this.#primary)!;
    const nonce = randomBytes(NONCE_BYTES);
    const c = createCipheriv("aes-256-gcm", key.secret, nonce);
    c.setAAD(Buffer.from(aad, "utf8"));
    const body = Buffer.concat([nonce, c.update(plaintext, "utf8"), c.final(), c.getAuthTag()]);
    return `${ENVELOPE_PREFIX}${key.name}:${body.toString("base64")}`;
  }

  /** Opens a sealed value; throws an Error when the key is unknown or the value was tampered with. */
  open(sealed: string, aad: string): string {
    const name = keyNameOf(sealed);
    if (name === undefined) throw new Error("not an encrypted value");
    const key = this.#keys.get(name);
    if (!key) throw new Error(`encrypted with key "${name}", which is not in the key set`);
    const body = Buffer.from(sealed.slice(ENVELOPE_PREFIX.length + name.length + 1), "base64");
    if (body.length < NONCE_BYTES + TAG_BYTES) throw new Error("encrypted value is truncated");
    const d = createDecipheriv("aes-256-gcm", key.secret, body.subarray(0, NONCE_BYTES));
    d.setAAD(Buffer.from(aad, "utf8"));
    d.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([d.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), d.final()]).toString("utf8");
    } catch {
      throw new Error(`encrypted value does not authenticate with key "${name}"`);
    }
  }
}

/** The key name of a sealed value, or undefined when `v` is not one. */
export function keyNameOf(v: string): string | undefined {
  if (!v.startsWith(ENVELOPE_PREFIX)) return undefined;
  const end = v.indexOf(":", ENVELOPE_PREFIX.length);
  return end < 0 ? undefined : v.slice(ENVELOPE_PREFIX.length, end);
}

function newKey(name: string): EncryptionKey {
  return { name, secret: randomBytes(KEY_BYTES), createdAt: new Date().toISOString() };
}
