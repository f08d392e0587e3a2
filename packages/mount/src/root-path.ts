import { lstat, readlink } from "node:fs/promises";
import { join } from "node:path";
import { invalidArgument } from "@berth/core";

const MAX_SYMLINKS = 255;

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * `subpath` joined to `root` with every symlink on the way resolved as if `root` were "/": a
 * Mount's target comes from outside (a container's spec) and an image's symlink such as
 * `etc -> /` or `x -> ../../..` must not carry a mount out of the rootfs. Missing components are
 * kept as written.
 */
export async function resolveInRoot(root: string, subpath: string): Promise<string> {
  const resolved: string[] = [];
  const pending = subpath.split("/");
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      resolved.pop(); // ".." at the root stays at the root
      continue;
    }
    const candidate = join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = (await lstat(candidate)).isSymbolicLink();
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw invalidArgument(`mount target ${subpath} under ${root}: too many levels of symbolic links`);
    const target = await readlink(candidate);
    if (target.startsWith("/")) resolved.length = 0;
    pending.unshift(...target.split("/"));
  }
  return join(root, ...resolved);
}
