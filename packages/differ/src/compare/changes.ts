import { lstatSync, readdirSync, type BigIntStats } from "node:fs";
import { isOpaqueDir } from "../apply/overlay-lowers.js";
import { sameContent, sameXattrs } from "./same-file.js";

/**
 * One difference between two trees, in walk order: depth first, siblings sorted by their
 * bytes, a directory before what is inside it. Paths are byte strings relative to the root.
 */
export type Change =
  | { readonly kind: "add" | "modify"; readonly path: string; readonly st: BigIntStats; readonly opaque?: boolean }
  /** Unchanged, but reported for hardlinked files: a changed link to the same inode must take them along. */
  | { readonly kind: "unmodified"; readonly path: string; readonly st: BigIntStats }
  | { readonly kind: "delete"; readonly path: string };

/** Host paths under a root, from byte strings. */
export class TreeRoot {
  readonly #root: string;
  constructor(root: string) {
    this.#root = Buffer.from(root.endsWith("/") && root.length > 1 ? root.slice(0, -1) : root, "utf8").toString("latin1");
  }
  abs(path: string): Buffer {
    return Buffer.from(path === "" ? this.#root : `${this.#root}/${path}`, "latin1");
  }
}

function sortedNames(root: TreeRoot, dir: string): string[] {
  return readdirSync(root.abs(dir), { encoding: "buffer" })
    .sort(Buffer.compare)
    .map((b) => b.toString("latin1"));
}

const join = (dir: string, name: string) => (dir === "" ? name : `${dir}/${name}`);
const typeOf = (st: BigIntStats) => Number(st.mode) & 0o170000;

/** Every entry under `dir` of `root` as added (a new directory's whole content). */
function* added(root: TreeRoot, dir: string): Generator<Change> {
  for (const name of sortedNames(root, dir)) {
    const path = join(dir, name);
    const st = lstatSync(root.abs(path), { bigint: true });
    yield { kind: "add", path, st };
    if (st.isDirectory()) yield* added(root, path);
  }
}

/**
 * The changes that turn `lower` into `upper`, found by walking both (containerd's double walk).
 * `lower` undefined is an empty tree. A path whose type changed is modified and, when the old
 * one was a directory, its contents are not reported: writing the new entry replaces them.
 */
export function* doubleWalk(lower: TreeRoot | undefined, upper: TreeRoot, dir = ""): Generator<Change> {
  if (!lower) {
    yield* added(upper, dir);
    return;
  }
  const lowerNames = sortedNames(lower, dir);
  const upperNames = sortedNames(upper, dir);
  let i = 0;
  let j = 0;
  while (i < lowerNames.length || j < upperNames.length) {
    const l = lowerNames[i];
    const u = upperNames[j];
    const order = l === undefined ? 1 : u === undefined ? -1 : Buffer.compare(Buffer.from(l, "latin1"), Buffer.from(u, "latin1"));
    if (order < 0) {
      yield { kind: "delete", path: join(dir, l!) };
      i++;
      continue;
    }
    const path = join(dir, u!);
    const ust = lstatSync(upper.abs(path), { bigint: true });
    j++;
    if (order > 0) {
      yield { kind: "add", path, st: ust };
      if (ust.isDirectory()) yield* added(upper, path);
      continue;
    }
    i++;
    const lst = lstatSync(lower.abs(path), { bigint: true });
    if (typeOf(lst) !== typeOf(ust)) {
      yield { kind: "modify", path, st: ust };
      if (ust.isDirectory()) yield* added(upper, path);
      continue;
    }
    const same = sameMetadata(lst, ust) && sameXattrs(lower.abs(path), upper.abs(path)) && sameBody(lower, upper, path, lst, ust);
    yield { kind: same ? "unmodified" : "modify", path, st: ust };
    if (ust.isDirectory()) yield* doubleWalk(lower, upper, path);
  }
}

/**
 * The changes recorded in an overlay upper directory over lowers it was mounted with: every
 * entry in it is new or changed, a 0:0 character device is a deletion, and a directory with
 * trusted.overlay.opaque=y replaces the one below instead of merging with it.
 */
export function* overlayUpperWalk(upper: TreeRoot, dir = ""): Generator<Change> {
  for (const name of sortedNames(upper, dir)) {
    const path = join(dir, name);
    const abs = upper.abs(path);
    const st = lstatSync(abs, { bigint: true });
    if (st.isCharacterDevice() && st.rdev === 0n) {
      yield { kind: "delete", path };
    } else if (st.isDirectory()) {
      yield { kind: "modify", path, st, opaque: isOpaqueDir(abs) };
      yield* overlayUpperWalk(upper, path);
    } else {
      yield { kind: "modify", path, st };
    }
  }
}

function sameMetadata(a: BigIntStats, b: BigIntStats): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.rdev === b.rdev;
}

/** Size, mtime and target or bytes: what distinguishes two files of the same kind and owner. */
function sameBody(lower: TreeRoot, upper: TreeRoot, path: string, a: BigIntStats, b: BigIntStats): boolean {
  if (a.isDirectory()) return true;
  if (a.isSymbolicLink()) return sameContent(lower.abs(path), upper.abs(path), "link");
  if (!a.isFile()) return a.mtimeNs === b.mtimeNs;
  if (a.size !== b.size || a.mtimeNs !== b.mtimeNs) return false;
  // Equal whole-second mtimes may come from a filesystem or archive without sub-second times:
  // only the bytes tell (as containerd's continuity does).
  return a.mtimeNs % 1_000_000_000n !== 0n || sameContent(lower.abs(path), upper.abs(path), "file");
}
