import assert from "node:assert/strict";
import { lstat, mkdir, readdir, readFile, readlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/**
 * What a mounted tree shows, as plain data: relative path → "dir", "file:<content>" or
 * "link:<target>". Cases compare whole trees, so a file that should be gone is caught as surely
 * as one that is missing.
 */
export type Tree = Record<string, string>;

export async function readTree(root: string): Promise<Tree> {
  const tree: Tree = {};
  const visit = async (rel: string): Promise<void> => {
    for (const entry of (await readdir(join(root, rel), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
      const full = join(root, path);
      if (entry.isDirectory()) {
        tree[path] = "dir";
        await visit(path);
      } else if (entry.isSymbolicLink()) {
        tree[path] = `link:${await readlink(full)}`;
      } else if (entry.isFile()) {
        tree[path] = `file:${await readFile(full, "utf8")}`;
      } else {
        tree[path] = `other:${(await lstat(full)).mode.toString(8)}`;
      }
    }
  };
  await visit("");
  return tree;
}

export async function assertTree(root: string, expected: Tree, what: string): Promise<void> {
  assert.deepEqual(await readTree(root), expected, `${what}: the mounted tree differs`);
}

/** Writes text files (and their parent directories) below `root`. */
export async function writeFiles(root: string, files: Readonly<Record<string, string>>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}
