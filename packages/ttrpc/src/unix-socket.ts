import { chmod, unlink } from "node:fs/promises";
import { createConnection, type Server, type Socket } from "node:net";
import { alreadyExists, invalidArgument } from "@berth/core";

// sun_path holds 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH_BYTES = 107;

/** A UNIX socket address as a path: containerd writes shim addresses as unix:///path. */
export function socketPath(address: string): string {
  const path = address.startsWith("unix://") ? address.slice("unix://".length) : address;
  if (path === "") throw invalidArgument("ttrpc: empty socket address");
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw invalidArgument(`ttrpc: unix socket path too long (over ${MAX_SOCKET_PATH_BYTES} bytes): ${path}`);
  }
  return path;
}

export function connectUnix(address: string): Socket {
  return createConnection({ path: socketPath(address) });
}

/**
 * Listens on a UNIX socket path with `mode`. A socket file left by a dead server is replaced;
 * one a live server still accepts on is not (AlreadyExists). The socket is created under the
 * process umask and narrowed to `mode` right after: with the usual umask (022) nobody else can
 * connect in between, since connecting needs write permission on the socket file.
 */
export async function listenUnix(server: Server, address: string, mode: number): Promise<string> {
  const path = socketPath(address);
  try {
    await listenOnce(server, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    if (await isAccepting(path)) throw alreadyExists(`ttrpc: ${path} is in use by a running server`);
    await unlink(path);
    await listenOnce(server, path);
  }
  await chmod(path, mode);
  return path;
}

export function listenFd(server: Server, fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ fd }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function listenOnce(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function isAccepting(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}
