import { chmod, chown, lstat, mkdir, unlink } from "node:fs/promises";
import { connect } from "node:net";
import { dirname } from "node:path";
import { failedPrecondition } from "@berth/core";

/**
 * Makes `path` ready to listen on: parent directories exist, and a socket left by a killed
 * daemon is removed. A socket that still answers belongs to a live daemon: refused.
 */
export async function prepareSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o711 });
  const st = await lstat(path).catch(() => undefined);
  if (!st) return;
  if (!st.isSocket()) throw failedPrecondition(`${path} exists and is not a socket; refusing to replace it`);
  if (await answers(path)) throw failedPrecondition(`another daemon is serving on ${path}`);
  await unlink(path);
}

/** Owner and mode as containerd sets them: 0660, uid/gid from [grpc]. */
export async function secureSocket(path: string, uid: number, gid: number): Promise<void> {
  await chown(path, uid, gid);
  await chmod(path, 0o660);
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
