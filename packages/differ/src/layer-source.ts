import type { ApplyOptions, Differ } from "@berth/core";

/**
 * Apply options with the layer's bytes handed in: the compressed blob from offset 0, for a
 * caller that has them before the content store does (an unpack reading behind its download).
 * The differ verifies the uncompressed digest as always; the caller must not commit the
 * snapshot before the blob itself is committed (verified) in the content store.
 *
 * Core's ApplyOptions has no such field yet, so it lives here, with a marker that says which
 * differs read it: one that does not would read the (not yet committed) blob from content.
 */
export interface LayerApplyOptions extends ApplyOptions {
  readonly source?: AsyncIterable<Uint8Array> | undefined;
}

/** Set on differs that read `LayerApplyOptions.source` (a registry symbol: survives duplicate copies). */
export const ACCEPTS_LAYER_SOURCE: unique symbol = Symbol.for("berth.differ.accepts-layer-source.v1") as never;

export function acceptsLayerSource(differ: Differ): boolean {
  return (differ as { [ACCEPTS_LAYER_SOURCE]?: unknown })[ACCEPTS_LAYER_SOURCE] === true;
}
