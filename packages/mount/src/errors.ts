import { type BerthError, failedPrecondition, internal, notFound, permissionDenied } from "@berth/core";

/** A mount or unmount syscall failure as an errdefs error whose message names what was being done. */
export function syscallFailure(what: string, err: unknown): BerthError {
  const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case "ENOENT":
      return notFound(message, err);
    case "EPERM":
    case "EACCES":
      return permissionDenied(message, err);
    case "EBUSY":
      return failedPrecondition(message, err);
    default:
      return internal(message, err);
  }
}
