/**
 * @berth/content-local: containerd's local content store in TypeScript — blobs by digest on
 * disk, resumable ingests, labels — and its plugin, io.containerd.content.v1.content.
 */
export { createLocalContentStore } from "./store.js";
export type { LocalContentStore, LocalContentStoreOptions } from "./store.js";
export { localContentPlugin } from "./plugin.js";
export { MAX_LABEL_BYTES } from "./labels.js";
