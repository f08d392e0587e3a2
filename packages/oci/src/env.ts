/**
 * `base` with `overrides` applied by variable name, as containerd merges environments: `K=v`
 * replaces K where it stands (or is appended), a bare `K` removes K. Order is kept, so an image's
 * variables stay first.
 */
export function mergeEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const merged: (string | undefined)[] = [...base];
  const indexByName = new Map<string, number>();
  base.forEach((entry, i) => indexByName.set(envName(entry), i));
  for (const entry of overrides) {
    const name = envName(entry);
    const at = indexByName.get(name);
    if (!entry.includes("=")) {
      if (at !== undefined) merged[at] = undefined;
      continue;
    }
    if (at !== undefined) {
      merged[at] = entry; // in place, even after an earlier unset, as containerd does
    } else {
      indexByName.set(name, merged.length);
      merged.push(entry);
    }
  }
  // Unlike containerd, a name set twice by `overrides` is kept once (the last value wins).
  return merged.filter((entry): entry is string => entry !== undefined && entry !== "");
}

function envName(entry: string): string {
  const eq = entry.indexOf("=");
  return eq < 0 ? entry : entry.slice(0, eq);
}
