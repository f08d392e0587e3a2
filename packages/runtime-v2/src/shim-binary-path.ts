import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";
import { invalidArgument, notFound } from "@berth/core";

/**
 * The shim binary a runtime name stands for, the way containerd names them: the last two
 * dot-separated parts make `containerd-shim-<name>-<version>` (`io.containerd.runc.v2` →
 * `containerd-shim-runc-v2`). undefined when the name has fewer than two parts.
 */
export function shimBinaryName(runtime: string): string | undefined {
  const parts = runtime.split(".");
  if (parts.length < 2) return undefined;
  const name = parts[parts.length - 2];
  const version = parts[parts.length - 1];
  if (!name || !version) return undefined;
  return `containerd-shim-${name}-${version}`;
}

export interface ShimResolverOptions {
  /** Directories searched in order; containerd searches PATH. */
  readonly searchPath: readonly string[];
  /** Searched after PATH: where the daemon's own binary lies (containerd looks beside itself). */
  readonly besideDaemon?: string | undefined;
  /** Last resort, by binary name: shims the daemon ships itself (Berth's own, from its package). */
  readonly builtin?: ReadonlyMap<string, string>;
}

/**
 * Resolves runtime names (or absolute shim paths) to shim binaries, caching names once found
 * (containerd caches them too: a shim installed later is found, one removed later is not noticed).
 */
export class ShimResolver {
  readonly #cache = new Map<string, string>();
  readonly #opts: ShimResolverOptions;

  constructor(opts: ShimResolverOptions) {
    this.#opts = opts;
  }

  async resolve(runtime: string): Promise<string> {
    if (runtime === "") throw invalidArgument("no runtime name");
    if (isAbsolute(runtime)) {
      await stat(runtime).catch((err: NodeJS.ErrnoException) => {
        throw notFound(`invalid custom binary path ${runtime}: ${err.code ?? err.message}`, err);
      });
      return runtime;
    }
    const name = runtime.includes("/") ? undefined : shimBinaryName(runtime);
    if (name === undefined) {
      throw invalidArgument(
        `invalid runtime name ${runtime}, correct runtime name should be either format like \`io.containerd.runc.v2\` or a full path to the binary`,
      );
    }
    const cached = this.#cache.get(name);
    if (cached) return cached;
    const dirs = [...this.#opts.searchPath, ...(this.#opts.besideDaemon ? [this.#opts.besideDaemon] : [])];
    for (const dir of dirs) {
      if (!isAbsolute(dir)) continue; // a relative PATH entry would depend on the daemon's cwd
      const candidate = join(dir, name);
      if (await isExecutable(candidate)) {
        this.#cache.set(name, candidate);
        return candidate;
      }
    }
    const builtin = this.#opts.builtin?.get(name);
    if (builtin !== undefined && (await isExecutable(builtin))) {
      this.#cache.set(name, builtin);
      return builtin;
    }
    throw notFound(`runtime "${runtime}" binary not installed "${name}": not found in ${dirs.join(", ") || "an empty PATH"}`);
  }
}

/** PATH as a list of directories. */
export function pathDirs(path: string | undefined): string[] {
  return (path ?? "").split(delimiter).filter((d) => d !== "");
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
