import { lstatSync, readlinkSync, type Stats } from "node:fs";
import { failedPrecondition, invalidArgument } from "@berth/core";
import { byteStringOfPath, displayName } from "../tar/tar-entry.js";
import { joinPath, parentOf } from "./entry-path.js";

/** A real directory inside the root, as the applier needs to know it. */
export interface DirInfo {
  /** Path below the root with no symlinks in it (byte string; "" is the root). */
  readonly real: string;
  /** The group a new file in it gets without a chown: the dir's own if setgid, else ours. */
  readonly gidForNew: number;
  readonly setgid: boolean;
}

/** Makes a missing directory at `real` (inside `parent`) and describes it. */
export type MakeDir = (real: string, parent: DirInfo) => DirInfo;

const MAX_SYMLINK_HOPS = 40;
const S_ISGID = 0o2000;

/** Host paths below one root, built from byte strings so non-UTF-8 names keep their bytes. */
export class RootPaths {
  readonly #root: string;

  constructor(root: string) {
    this.#root = byteStringOfPath(root.endsWith("/") && root.length > 1 ? root.slice(0, -1) : root);
  }

  abs(real: string): Buffer {
    return Buffer.from(real === "" ? this.#root : `${this.#root}/${real}`, "latin1");
  }
}

/**
 * Resolves directory paths of archive entries to real directories inside the root, once per
 * directory: results are cached until something in the tree is removed or replaced.
 *
 * Symlinks met on the way are followed only while they stay inside the root (relative targets
 * whose ".." never climb above it); an absolute or escaping target fails the entry, so no
 * write can land outside the root whatever the layer or the layers below it contain.
 */
export class RootResolver {
  readonly #cache = new Map<string, DirInfo>();
  readonly #root: DirInfo;

  constructor(
    readonly paths: RootPaths,
    readonly egid: number,
    private readonly makeDir: MakeDir,
  ) {
    this.#root = this.#infoOf("", lstatSync(paths.abs("")));
  }

  /** The real directory for the clean path `lex`, creating missing directories. */
  dir(lex: string): DirInfo {
    return this.#resolve(lex, true)!;
  }

  /** Like dir, but undefined where something is missing. */
  lookup(lex: string): DirInfo | undefined {
    return this.#resolve(lex, false);
  }

  /** Records a directory the applier just made or merged at the clean path `lex`. */
  remember(lex: string, real: string, gid: number, mode: number): void {
    const setgid = (mode & S_ISGID) !== 0;
    this.#cache.set(lex, { real, setgid, gidForNew: setgid ? gid : this.egid });
  }

  /** Drops every cached resolution: called when a directory or symlink is removed or replaced. */
  forget(): void {
    this.#cache.clear();
  }

  /** Describes the existing real directory `real`. */
  infoAt(real: string): DirInfo {
    return this.#infoOf(real, lstatSync(this.paths.abs(real)));
  }

  #resolve(lex: string, create: boolean): DirInfo | undefined {
    if (lex === "") return this.#root;
    const hit = this.#cache.get(lex);
    if (hit) return hit;
    const parent = this.#resolve(parentOf(lex), create);
    if (!parent) return undefined;
    const info = this.#step(parent, lex.slice(lex.lastIndexOf("/") + 1), create, 0);
    if (info) this.#cache.set(lex, info);
    return info;
  }

  /** Enters `name` inside `parent`: a directory, a symlink to follow, or a missing one to make. */
  #step(parent: DirInfo, name: string, create: boolean, hops: number): DirInfo | undefined {
    const real = joinPath(parent.real, name);
    const path = this.paths.abs(real);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) return create ? this.makeDir(real, parent) : undefined;
    if (st.isDirectory()) return this.#infoOf(real, st);
    if (st.isSymbolicLink()) {
      const target = readlinkSync(path, { encoding: "buffer" }).toString("latin1");
      return this.#follow(parent, real, target, create, hops + 1);
    }
    throw failedPrecondition(`"${displayName(real)}" is not a directory`);
  }

  #follow(from: DirInfo, link: string, target: string, create: boolean, hops: number): DirInfo | undefined {
    const escape = () =>
      invalidArgument(`"${displayName(link)}" is a symlink to "${displayName(target)}", outside the root`);
    if (hops > MAX_SYMLINK_HOPS) throw invalidArgument(`too many levels of symlinks at "${displayName(link)}"`);
    if (target.startsWith("/")) throw escape();
    let at: DirInfo | undefined = from;
    for (const part of target.split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (at.real === "") throw escape();
        at = this.infoAt(parentOf(at.real));
        continue;
      }
      at = this.#step(at, part, create, hops);
      if (!at) return undefined;
    }
    return at;
  }

  #infoOf(real: string, st: Stats): DirInfo {
    const setgid = (st.mode & S_ISGID) !== 0;
    return { real, setgid, gidForNew: setgid ? st.gid : this.egid };
  }
}
