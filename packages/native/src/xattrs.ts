import { binding, type RawPath } from "./binding.js";
import { rethrowAsSystemError } from "./system-error.js";

// The l* variants throughout: a layer's symlinks carry their own attributes, and following them
// could reach outside the tree being built.

/** Sets extended attribute `name` ("user.x", "trusted.overlay.opaque", "security.capability"…). */
export function lsetxattr(path: RawPath, name: string, value: Buffer): void {
  rethrowAsSystemError(() => binding.lsetxattr(path, name, value));
}

/** The attribute's bytes, or undefined when the file has no such attribute. */
export function lgetxattr(path: RawPath, name: string): Buffer | undefined {
  return rethrowAsSystemError(() => binding.lgetxattr(path, name));
}

/** The names of every extended attribute the caller may see on `path`. */
export function llistxattr(path: RawPath): string[] {
  return rethrowAsSystemError(() => binding.llistxattr(path));
}

export function lremovexattr(path: RawPath, name: string): void {
  rethrowAsSystemError(() => binding.lremovexattr(path, name));
}
