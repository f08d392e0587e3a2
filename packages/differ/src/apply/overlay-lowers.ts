import { lstatSync, type Stats } from "node:fs";
import { lgetxattr } from "@berth/native";
import { byteStringOfPath } from "../tar/tar-entry.js";

export const OPAQUE_XATTR = "trusted.overlay.opaque";

/** An overlay whiteout: a character device 0:0. */
export function isWhiteoutDevice(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

export function isOpaqueDir(path: Buffer): boolean {
  return lgetxattr(path, OPAQUE_XATTR)?.toString("latin1") === "y";
}

/**
 * The lower directories of an overlay upper dir, topmost first, for what applying into the
 * upper dir alone cannot see: attributes for parent directories it has to make, and files a
 * hardlink names that live only below.
 */
export class OverlayLowers {
  readonly #roots: string[];

  constructor(lowers: readonly string[]) {
    this.#roots = lowers.map((l) => byteStringOfPath(l.endsWith("/") && l.length > 1 ? l.slice(0, -1) : l));
  }

  get empty(): boolean {
    return this.#roots.length === 0;
  }

  /**
   * The directory to copy attributes from when making `real` in the upper dir: the topmost
   * lower holding it, if that is a directory (as containerd's overlay applier does).
   */
  dirTemplate(real: string): { path: Buffer; st: Stats } | undefined {
    for (const root of this.#roots) {
      const path = Buffer.from(`${root}/${real}`, "latin1");
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (!st) continue;
      return st.isDirectory() ? { path, st } : undefined;
    }
    return undefined;
  }

  /**
   * Where `real` is visible through the lower stack as the merged mount would show it: whiteouts
   * hide what is below them, opaque directories end the descent, non-directories shadow.
   */
  find(real: string): { path: Buffer; st: Stats } | undefined {
    const parts = real.split("/");
    let layers = this.#roots;
    let prefix = "";
    for (let i = 0; i < parts.length; i++) {
      prefix = i === 0 ? parts[0]! : `${prefix}/${parts[i]!}`;
      const last = i === parts.length - 1;
      const next: string[] = [];
      for (const root of layers) {
        const path = Buffer.from(`${root}/${prefix}`, "latin1");
        const st = lstatSync(path, { throwIfNoEntry: false });
        if (!st) continue;
        // A whiteout or a non-directory hides everything below it.
        if (isWhiteoutDevice(st)) break;
        if (last) return { path, st };
        if (!st.isDirectory()) break;
        next.push(root);
        if (isOpaqueDir(path)) break;
      }
      if (next.length === 0) return undefined;
      layers = next;
    }
    return undefined;
  }
}
