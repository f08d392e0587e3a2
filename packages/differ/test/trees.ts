import { execFile } from "node:child_process";
import {
  chmodSync,
  chownSync,
  linkSync,
  mkdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { lsetxattr, mkfifo, mknod } from "@berth/native";

/** A lower tree with one of everything a layer carries. */
export function makeLowerTree(root: string): void {
  const p = (rel: string) => join(root, rel);
  mkdirSync(root, { recursive: true });
  for (const d of ["keep", "gonedir/sub", "d2f", "opq/inner", "dev"]) mkdirSync(p(d), { recursive: true });
  const files: Record<string, string> = {
    "keep/a.txt": "alpha",
    "keep/same-size.txt": "12345",
    "keep/mode.txt": "m",
    "keep/owner.txt": "o",
    "keep/xattr.txt": "x",
    "gone.txt": "bye",
    "gonedir/sub/f": "f",
    "d2f/child": "c",
    "f2d": "file",
    "opq/one": "1",
    "opq/inner/two": "2",
    "hl1": "linked",
  };
  for (const [rel, data] of Object.entries(files)) writeFileSync(p(rel), data);
  symlinkSync("keep/a.txt", p("link"));
  mkfifo(p("dev/fifo"), 0o644);
  // Whole-second mtimes, as files unpacked from a layer have.
  utimesSync(p("keep/same-size.txt"), 1577836800, 1577836800);
}

/** Changes of every kind, made in `root` (directly, or through an overlay mount of it). */
export function changeTree(root: string): void {
  const p = (rel: string) => join(root, rel);
  writeFileSync(p("new.txt"), "new");
  mkdirSync(p("newdir/nested"), { recursive: true });
  writeFileSync(p("newdir/nested/file"), "nested");
  writeFileSync(p("keep/a.txt"), "alpha, longer now");
  writeFileSync(p("keep/same-size.txt"), "54321");
  utimesSync(p("keep/same-size.txt"), 1577836800, 1577836800);
  chmodSync(p("keep/mode.txt"), 0o600);
  chownSync(p("keep/owner.txt"), 1234, 5678);
  lsetxattr(p("keep/xattr.txt"), "user.added", Buffer.from("yes"));
  chmodSync(p("keep"), 0o750);
  rmSync(p("gone.txt"));
  rmSync(p("gonedir"), { recursive: true });
  rmSync(p("d2f"), { recursive: true });
  writeFileSync(p("d2f"), "was a dir");
  rmSync(p("f2d"));
  mkdirSync(p("f2d"));
  writeFileSync(p("f2d/inside"), "was a file");
  rmSync(p("opq"), { recursive: true });
  mkdirSync(p("opq"));
  writeFileSync(p("opq/fresh"), "only this");
  rmSync(p("link"));
  symlinkSync("new.txt", p("link"));
  linkSync(p("hl1"), p("hl2"));
  mknod(p("dev/null"), 0o020666, 1, 3);
}

export async function copyTree(from: string, to: string): Promise<void> {
  await promisify(execFile)("cp", ["-a", from, to]);
}

export const isDir = (path: string) => statSync(path).isDirectory();
