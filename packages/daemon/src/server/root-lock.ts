import { createHash } from "node:crypto";
import { readFile, realpath, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { failedPrecondition } from "@berth/core";

/** Held while a daemon owns a root; release() gives it up. */
export interface RootLock {
  release(): Promise<void>;
}

/**
 * Locks `root` for this process. Node has no flock, so the lock is an abstract UNIX socket
 * named after the root's real path: the kernel frees it when the process dies, so a killed
 * daemon never leaves a stale lock. A pid file beside it names the holder for messages.
 */
export async function lockRoot(root: string): Promise<RootLock> {
  const real = await realpath(root);
  const name = `\0berthd-root-${createHash("sha256").update(real).digest("hex").slice(0, 32)}`;
  const pidFile = join(real, "berthd.pid");
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", async (err: NodeJS.ErrnoException) => {
      if (err.code !== "EADDRINUSE") return reject(err);
      const holder = (await readFile(pidFile, "utf8").catch(() => "")).trim();
      reject(failedPrecondition(`root ${real} is in use by another berthd${holder ? ` (pid ${holder})` : ""}`));
    });
    server.listen({ path: name }, () => resolve());
  });
  await writeFile(pidFile, `${process.pid}\n`);
  return {
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
