export type { TypedValue, Namespace, Image, Container, Lease, LeaseResource } from "./records.js";
export type { NamespaceStore, ImageStore, ContainerStore, LeaseManager, MetadataStore } from "./stores.js";
export { CommitPath } from "./commit-path.js";
