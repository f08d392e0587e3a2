import type { ContentStore, OpContext } from "../content/index.js";
import type { Snapshotter } from "../snapshots/index.js";
import type { MetadataCollector } from "../gc/index.js";
import type { Container, Image, Lease, LeaseResource, Namespace } from "./records.js";

/**
 * Namespaced metadata, as containerd's metadata plugin keeps it. Every mutation is one
 * transaction; errors are core errdefs (NotFound, AlreadyExists, FailedPrecondition,
 * InvalidArgument). Fieldpaths follow containerd's update masks ("labels", "labels.<key>",
 * "target", "image", "spec", "runtime", "snapshotkey", "extensions.<key>" …); an empty list
 * updates every updatable field.
 */
export interface NamespaceStore {
  create(name: string, labels: Readonly<Record<string, string>>): Promise<Namespace>;
  get(name: string): Promise<Namespace>;
  list(): Promise<Namespace[]>;
  update(namespace: Namespace, fieldpaths: readonly string[]): Promise<Namespace>;
  /** FailedPrecondition while the namespace still holds images, containers, content, leases or snapshots. */
  delete(name: string): Promise<void>;
}

export interface ImageStore {
  get(ctx: OpContext, name: string): Promise<Image>;
  /** Fields: name, target.mediatype, target.digest, labels.<key>. */
  list(ctx: OpContext, filters: readonly string[]): Promise<Image[]>;
  create(ctx: OpContext, image: Omit<Image, "createdAt" | "updatedAt">): Promise<Image>;
  update(ctx: OpContext, image: Omit<Image, "createdAt" | "updatedAt">, fieldpaths: readonly string[]): Promise<Image>;
  delete(ctx: OpContext, name: string): Promise<void>;
}

export interface ContainerStore {
  get(ctx: OpContext, id: string): Promise<Container>;
  /** Fields: id, image, runtime.name, snapshotter, labels.<key>. */
  list(ctx: OpContext, filters: readonly string[]): Promise<Container[]>;
  create(ctx: OpContext, container: Omit<Container, "createdAt" | "updatedAt">): Promise<Container>;
  update(ctx: OpContext, container: Omit<Container, "createdAt" | "updatedAt">, fieldpaths: readonly string[]): Promise<Container>;
  delete(ctx: OpContext, id: string): Promise<void>;
}

export interface LeaseManager {
  create(ctx: OpContext, lease: { id: string; labels: Readonly<Record<string, string>> }): Promise<Lease>;
  /** `sync` waits for garbage collection of what the lease held (when a collector is loaded). */
  delete(ctx: OpContext, id: string, opts?: { sync?: boolean }): Promise<void>;
  /** Fields: id, labels.<key>. */
  list(ctx: OpContext, filters: readonly string[]): Promise<Lease[]>;
  addResource(ctx: OpContext, leaseId: string, resource: LeaseResource): Promise<void>;
  deleteResource(ctx: OpContext, leaseId: string, resource: LeaseResource): Promise<void>;
  listResources(ctx: OpContext, leaseId: string): Promise<LeaseResource[]>;
}

/** What io.containerd.metadata.v1 plugins provide. */
export interface MetadataStore {
  readonly namespaces: NamespaceStore;
  readonly images: ImageStore;
  readonly containers: ContainerStore;
  readonly leases: LeaseManager;
  /** The content store seen through namespaces: ownership per namespace, sharing per policy. */
  readonly content: ContentStore;
  /**
   * Every loaded snapshotter seen through namespaces, by name ("overlayfs", "btrfs"): the same
   * key in two namespaces is two backend snapshots; leases hold what they prepare.
   */
  readonly snapshotters: ReadonlyMap<string, Snapshotter>;
  /** Mark and sweep over this store and its backends, for a garbage collection scheduler; absent when the store cannot be collected. */
  readonly collector?: MetadataCollector;
}
