/**
 * @module Encryption at rest (Secrets by default): the key set and its file,
 * the Store wrapper that seals and opens objects, and the rotation chores.
 * Design: the Security section of core/server/README.md.
 */
export { ENVELOPE_PREFIX, type EncryptionKey, KeySet, keyFilePath, keyNameOf } from "./keys.ts";
export { DEFAULT_ENCRYPTED_RESOURCES, EncryptingStore, type EncryptingStoreOptions, SEALED_FIELD } from "./encrypting-store.ts";
export { keysInUse, lockDataDir, type RewriteResult, rewriteAll, serverHolding } from "./maintenance.ts";
