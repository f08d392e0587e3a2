import { posix } from "node:path";

/** Overlay data rewritten with paths relative to `cwd`. */
export interface ShortenedOverlayOptions {
  readonly cwd: string;
  readonly data: readonly string[];
}

const dirKeys = ["lowerdir=", "upperdir=", "workdir="] as const;

/** Splits a lowerdir list on ":" but not on an escaped "\:" (overlayfs' escape for colons in names). */
function splitLowerdirs(list: string): string[] {
  return list.split(/(?<!\\):/);
}

function isDirOption(option: string): boolean {
  return dirKeys.some((key) => option.startsWith(key));
}

function dirsOf(option: string): string[] {
  const value = option.slice(option.indexOf("=") + 1);
  return option.startsWith("lowerdir=") ? splitLowerdirs(value) : [value];
}

/**
 * The deepest directory that holds every path strictly below it, or undefined when that is "/"
 * (nothing to gain) or a path is relative.
 */
export function commonParentDirectory(paths: readonly string[]): string | undefined {
  if (paths.length === 0 || paths.some((p) => !posix.isAbsolute(p))) return undefined;
  const split = paths.map((p) => posix.normalize(p).split("/").filter((c) => c !== ""));
  // Stop one short of the shortest path, so that no path becomes "" relative to the result.
  const limit = Math.min(...split.map((parts) => parts.length)) - 1;
  const first = split[0] ?? [];
  let depth = 0;
  while (depth < limit && split.every((parts) => parts[depth] === first[depth])) depth++;
  return depth === 0 ? undefined : `/${first.slice(0, depth).join("/")}`;
}

/**
 * mount(2) copies one page of option data; an image with a couple of hundred layers lists far
 * more. Snapshot directories share a long common parent, so listing them relative to it, with
 * the mount made from that directory, shrinks the list to a few bytes per layer.
 */
export function shortenOverlayOptions(data: readonly string[]): ShortenedOverlayOptions | undefined {
  const dirs = data.filter(isDirOption).flatMap(dirsOf);
  const cwd = commonParentDirectory(dirs);
  if (cwd === undefined) return undefined;
  const relative = (dir: string) => posix.relative(cwd, dir);
  return {
    cwd,
    data: data.map((option) => {
      if (!isDirOption(option)) return option;
      const key = option.slice(0, option.indexOf("=") + 1);
      return key + dirsOf(option).map(relative).join(":");
    }),
  };
}
