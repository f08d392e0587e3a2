import { join, resolve } from "node:path";

/**
 * Where things live under the store's root. Same layout as containerd's local store, so a
 * root written by one can be read by the other:
 *
 *   blobs/sha256/<hex>          committed, verified, read-only blobs
 *   ingest/<sha256(ref)>/       one in-progress write: data, ref, startedat, updatedat, total
 *   labels/<hex>.json           Berth only: labels and update time of a blob
 */
export class Layout {
  readonly root: string;
  readonly blobsDir: string;
  readonly ingestRoot: string;
  readonly labelsDir: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.blobsDir = join(this.root, "blobs", "sha256");
    this.ingestRoot = join(this.root, "ingest");
    this.labelsDir = join(this.root, "labels");
  }

  /** `hex` must come from digestHex/isHex64: it is joined without further checks. */
  blobPath(hex: string): string {
    return join(this.blobsDir, hex);
  }

  /** `key` is refKey(ref) or a directory name that passed isHex64. */
  ingestDir(key: string): string {
    return join(this.ingestRoot, key);
  }

  labelsPath(hex: string): string {
    return join(this.labelsDir, `${hex}.json`);
  }
}
