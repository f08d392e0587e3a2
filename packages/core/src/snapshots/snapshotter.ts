import { invalidArgument } from "../errdefs/index.js";
import type { OpContext } from "../content/index.js";

/**
 * containerd's snapshotter model. A snapshot is active (writable, made by prepare), a view
 * (read-only, made by view) or committed (immutable, made by commit from an active one, and the
 * only kind that can be a parent). Keys are the caller's names; committed snapshots are named.
 */
export type SnapshotKind = "view" | "active" | "committed";

export interface SnapshotInfo {
  readonly kind: SnapshotKind;
  /** The key (active, view) or name (committed). */
  readonly name: string;
  /** The committed snapshot this one is based on; "" for none. */
  readonly parent: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** What a snapshot takes on disk: its own layer only, not its parents. */
export interface SnapshotUsage {
  readonly size: number;
  readonly inodes: number;
}

/**
 * A mount as the kernel takes it (mount(8) arguments), as containerd's types.Mount carries it.
 * `target` is a subpath below the mount root, for mounts stacked inside others; "" or absent
 * means the root itself.
 */
export interface Mount {
  readonly type: string;
  readonly source: string;
  readonly target?: string | undefined;
  readonly options: readonly string[];
}

export interface SnapshotOptions {
  readonly labels?: Readonly<Record<string, string>> | undefined;
  /**
   * Commit only: the parent of a snapshot prepared without one (containerd's WithParent). Only
   * snapshotters whose plugin lists SNAPSHOT_REBASE_CAPABILITY accept it; a snapshot that has a
   * parent cannot change it.
   */
  readonly parent?: string | undefined;
}

/**
 * The plugin capability of a snapshotter whose layers do not depend on their parents' contents
 * (overlay): an unpacker may prepare every layer without a parent, apply them side by side and
 * name each one's parent as it commits them in order.
 */
export const SNAPSHOT_REBASE_CAPABILITY = "rebase";

/**
 * containerd's rule for a parent given at commit: a snapshot prepared without one takes it; one
 * that has a parent keeps it, and naming a different one is InvalidArgument. Returns the parent
 * the committed snapshot gets; checking that it exists and is committed is the store's part.
 */
export function parentAtCommit(key: string, current: string, requested: string | undefined): string {
  if (requested === undefined || requested === "" || requested === current) return current;
  if (current !== "") throw invalidArgument(`cannot change parent of active snapshot ${JSON.stringify(key)} on commit`);
  return requested;
}

/**
 * Every call gets an OpContext: backends ignore its namespace, the namespaced view that
 * metadata builds over them uses it. Errors are core errdefs: NotFound for unknown keys,
 * AlreadyExists for a reused key or name, FailedPrecondition for removing a snapshot with
 * children, committing a non-active snapshot or preparing on a non-committed parent,
 * InvalidArgument for bad keys.
 */
export interface Snapshotter {
  stat(ctx: OpContext, key: string): Promise<SnapshotInfo>;
  /** Updates `fieldpaths` ("labels", "labels.<key>"); empty fieldpaths replace all labels. */
  update(ctx: OpContext, info: Pick<SnapshotInfo, "name" | "labels">, fieldpaths: readonly string[]): Promise<SnapshotInfo>;
  usage(ctx: OpContext, key: string): Promise<SnapshotUsage>;
  /** The mounts of an active snapshot or view. FailedPrecondition for a committed one. */
  mounts(ctx: OpContext, key: string): Promise<Mount[]>;
  /** A new active snapshot over `parent` ("" for an empty one). */
  prepare(ctx: OpContext, key: string, parent: string, opts?: SnapshotOptions): Promise<Mount[]>;
  /** A new read-only view of `parent`. */
  view(ctx: OpContext, key: string, parent: string, opts?: SnapshotOptions): Promise<Mount[]>;
  /** Turns active snapshot `key` into committed snapshot `name`; `key` is gone afterwards. */
  commit(ctx: OpContext, name: string, key: string, opts?: SnapshotOptions): Promise<void>;
  remove(ctx: OpContext, key: string): Promise<void>;
  /** Snapshots matching any filter (fields: kind, name, parent, labels.<key>); all if none. */
  walk(ctx: OpContext, filters: readonly string[]): AsyncIterable<SnapshotInfo>;
  /** Removes what removed snapshots left on disk (a crash between metadata and filesystem). */
  cleanup(ctx: OpContext): Promise<void>;
  close(): Promise<void>;
}
