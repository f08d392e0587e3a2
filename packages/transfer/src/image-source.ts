import type { Descriptor } from "@berth/core";

/** Where an image comes from: a registry repository, or a local archive. */
export interface ImageSource {
  /** The reference's canonical name and the descriptor of its index or manifest. */
  resolve(signal?: AbortSignal): Promise<{ readonly name: string; readonly descriptor: Descriptor }>;
  /** The blob's bytes from `offset` on (a resumed download asks for the rest). */
  fetch(desc: Descriptor, opts: { readonly offset: number; readonly signal?: AbortSignal | undefined }): AsyncIterable<Uint8Array>;
}

/** waiting: another pull holds the blob's ingest; verifying: all bytes in, checking size and digest. */
export type BlobState = "waiting" | "downloading" | "verifying" | "done" | "exists" | "unpacking" | "unpacked";

/** Progress of one blob, reported on every change the caller may want to draw. */
export interface BlobProgress {
  readonly digest: string;
  readonly mediaType: string;
  readonly offset: number;
  readonly total: number;
  readonly state: BlobState;
}

export type ProgressListener = (progress: BlobProgress) => void;
