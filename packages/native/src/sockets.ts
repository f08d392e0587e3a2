import { binding, type RawPath } from "./binding.js";
import { rethrowAsSystemError } from "./system-error.js";

/**
 * A listening UNIX stream socket bound at `path`, as a raw descriptor (non-blocking,
 * close-on-exec): one that can be handed to a child process as is, or given to
 * net.Server.listen({ fd }).
 */
export function unixListen(path: RawPath): number {
  return rethrowAsSystemError(() => binding.unixListen(path));
}

/**
 * Accepts one pending connection on `listenFd` and returns the descriptor its peer sent with
 * SCM_RIGHTS (close-on-exec), closing the connection: how runc hands over a console's master
 * through `--console-socket`. Never blocks: undefined when no connection or message is waiting.
 */
export function receiveFd(listenFd: number): number | undefined {
  return rethrowAsSystemError(() => binding.receiveFd(listenFd));
}
