import { invalidArgument } from "@berth/core";
import { displayName } from "../tar/tar-entry.js";

/**
 * An archive name split into clean components: "./a//b/" → ["a", "b"], "a/../b" → ["b"].
 * A name that is absolute or climbs above the root with ".." is refused: a layer has no
 * business naming anything outside its root, and such names are how hostile layers try.
 */
export function entryComponents(name: string, what = "path"): string[] {
  if (name.startsWith("/")) throw invalidArgument(`${what} "${displayName(name)}" is absolute; layer entries are relative to the root`);
  const out: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) throw invalidArgument(`${what} "${displayName(name)}" leads outside the root`);
      out.pop();
    } else {
      out.push(part);
    }
  }
  return out;
}

/** "a/b" + "c" → "a/b/c"; "" is the root. Byte strings, no leading slash. */
export function joinPath(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}
