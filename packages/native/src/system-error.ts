import { getSystemErrorMessage, getSystemErrorName } from "node:util";
import type { RawPath } from "./binding.js";

/** The shape of Node's own fs errors, so callers can treat both alike (`err.code === "ENOENT"`). */
export interface SystemError extends Error {
  readonly code: string;
  /** Negative, as in Node. */
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
}

interface RawNativeError {
  readonly errno: number;
  readonly syscall: string;
  readonly path?: RawPath;
}

function isRawNativeError(err: unknown): err is RawNativeError {
  return err instanceof Error && typeof (err as { errno?: unknown }).errno === "number" && typeof (err as { syscall?: unknown }).syscall === "string";
}

/** Builds "ENOENT: no such file or directory, mknod '/x'" with code, errno, syscall and path set. */
export function systemError(errno: number, syscall: string, path?: RawPath): SystemError {
  const code = getSystemErrorName(errno);
  const shownPath = path === undefined ? undefined : path.toString();
  const message = `${code}: ${getSystemErrorMessage(errno)}, ${syscall}${shownPath === undefined ? "" : ` '${shownPath}'`}`;
  const err = new Error(message) as Error & { code: string; errno: number; syscall: string; path?: string };
  err.code = code;
  err.errno = errno;
  err.syscall = syscall;
  if (shownPath !== undefined) err.path = shownPath;
  Error.captureStackTrace(err, rethrowAsSystemError);
  return err;
}

/** Runs one addon call, turning its bare errno errors into SystemErrors; other errors pass. */
export function rethrowAsSystemError<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (isRawNativeError(err)) throw systemError(err.errno, err.syscall, err.path);
    throw err;
  }
}
