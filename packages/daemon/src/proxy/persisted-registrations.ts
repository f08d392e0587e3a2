import { readFile, rename, writeFile } from "node:fs/promises";
import { invalidArgument } from "@berth/core";
import { PROXY_TYPES, type ProxyPluginSpec, type ProxyType } from "@berth/proxy";

/** The file under the daemon's root that keeps proxy plugins registered with `persist`. */
export const PERSISTED_PROXY_PLUGINS = "proxy-plugins.json";

interface FileShape {
  version: 1;
  plugins: ProxyPluginSpec[];
}

/** What `path` holds; none when it does not exist. A damaged file is an error naming it. */
export async function readPersisted(path: string): Promise<ProxyPluginSpec[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  try {
    const doc = JSON.parse(text) as FileShape;
    if (doc.version !== 1 || !Array.isArray(doc.plugins)) throw new Error("unknown layout");
    return doc.plugins.map((p) => {
      if (!PROXY_TYPES.includes(p.type as ProxyType) || typeof p.id !== "string" || typeof p.address !== "string") throw new Error(`bad entry ${JSON.stringify(p)}`);
      return { type: p.type, id: p.id, address: p.address, exports: { ...p.exports } };
    });
  } catch (err) {
    throw invalidArgument(`persisted proxy plugins in ${path} cannot be read: ${(err as Error).message}`, err);
  }
}

/** Replaces `path` atomically (write beside, rename), so a crash leaves the old or the new list. */
export async function writePersisted(path: string, plugins: readonly ProxyPluginSpec[]): Promise<void> {
  const doc: FileShape = { version: 1, plugins: [...plugins] };
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}
