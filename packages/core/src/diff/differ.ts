import type { Descriptor, OpContext } from "../content/index.js";
import type { Mount } from "../snapshots/index.js";

export interface ApplyOptions {
  /** Stream processors' payloads by media type (containerd's ApplyRequest.payloads); unused by Berth's differ. */
  readonly payloads?: ReadonlyMap<string, Uint8Array> | undefined;
  /** Re-run the applier even on an empty layer's digest. */
  readonly syncFs?: boolean | undefined;
  /**
   * The layer's compressed bytes from offset 0, for a caller that has them before the content
   * store does (an unpack reading behind its download). Only differs with `readsApplySource`
   * read it; others read `desc` from content. The uncompressed digest is verified as always, and
   * the caller must not commit the snapshot before the blob itself is committed (verified).
   */
  readonly source?: AsyncIterable<Uint8Array> | undefined;
}

export interface DiffOptions {
  /** Media type of the layer to write; default application/vnd.oci.image.layer.v1.tar+gzip. */
  readonly mediaType?: string | undefined;
  /** Ingest ref for the layer; default a unique one. */
  readonly ref?: string | undefined;
  /** Labels for the committed blob (containerd.io/uncompressed is always set). */
  readonly labels?: Readonly<Record<string, string>> | undefined;
}

/**
 * Applies layers to mounted snapshots and computes layers from pairs of them
 * (containerd's diff.Applier and diff.Comparer). Layers are read from and written to the
 * content store in the caller's namespace.
 */
export interface Differ {
  /** True when `apply` reads `ApplyOptions.source` instead of the content store. */
  readonly readsApplySource?: boolean | undefined;
  /**
   * Unpacks the layer `desc` onto `mounts` (mounted for the duration, unmounted whatever
   * happens). Returns the descriptor of the uncompressed tar (its digest is the diff ID).
   * A layer whose uncompressed digest does not match, or whose entries would land outside the
   * root, fails with an error naming it, and nothing outside the root is touched.
   */
  apply(ctx: OpContext, desc: Descriptor, mounts: readonly Mount[], opts?: ApplyOptions): Promise<Descriptor>;
  /** Writes the difference of `upper` over `lower` as a layer into content; returns its descriptor. */
  compare(ctx: OpContext, lower: readonly Mount[], upper: readonly Mount[], opts?: DiffOptions): Promise<Descriptor>;
}
