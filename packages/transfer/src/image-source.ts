import type { Descriptor } from "@berth/core";
import type { ImageOrigin } from "./distribution-source.js";

/** Where an image comes from: a registry repository, or a local archive. */
export interface ImageSource {
  /** The reference's canonical name and the descriptor of its index or manifest. */
  resolve(signal?: AbortSignal): Promise<{ readonly name: string; readonly descriptor: Descriptor }>;
  /** The blob's bytes from `offset` on (a resumed download asks for the rest). */
  fetch(desc: Descriptor, opts: { readonly offset: number; readonly signal?: AbortSignal | undefined }): AsyncIterable<Uint8Array>;
  /** The registry repository the blobs come from: recorded on each one so a push there can mount them. */
  readonly origin?: ImageOrigin | undefined;
}

/**
 * waiting: another pull holds the blob's ingest; verifying: all bytes in, checking size and
 * digest; exists: already there (in the store on a pull, in the registry on a push); mounted:
 * linked by the registry from another repository instead of uploaded.
 */
export type BlobState = "waiting" | "downloading" | "verifying" | "done" | "exists" | "unpacking" | "unpacked" | "uploading" | "mounted";

/** Progress of one blob, reported on every change the caller may want to draw. */
export interface BlobProgress {
  readonly digest: string;
  readonly mediaType: string;
  readonly offset: number;
  readonly total: number;
  readonly state: BlobState;
}

export type ProgressListener = (progress: BlobProgress) => void;
