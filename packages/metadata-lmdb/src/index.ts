/**
 * @berth/metadata-lmdb: Berth's namespaced metadata (namespaces, images, containers, leases,
 * content ownership) in one lmdb environment, and its plugin io.containerd.metadata.v1.lmdb.
 */
export { openMetadataStore } from "./store.js";
export type { LmdbMetadataStore, MetadataStoreOptions } from "./store.js";
export type { ContentSharingPolicy } from "./content.js";
export type { UnreferencedContent } from "./gc.js";
export type { LmdbCollector } from "./gc-collector.js";
export { MIGRATIONS, SCHEMA_VERSION, type Migration } from "./migrations.js";
export { lmdbMetadataPlugin, METADATA_FILE } from "./plugin.js";
