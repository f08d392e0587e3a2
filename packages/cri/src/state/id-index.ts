import { alreadyExists, invalidArgument, notFound } from "@berth/core";

/**
 * Full IDs, found by any unique prefix: crictl and the kubelet's users pass truncated IDs
 * (`crictl stop 3f2a`), as they do with containerd.
 */
export interface IdIndex {
  add(id: string): void;
  delete(id: string): void;
  /** The one full ID starting with `prefix`; NotFound for none, InvalidArgument when ambiguous. */
  resolve(prefix: string): string;
  has(id: string): boolean;
  ids(): IterableIterator<string>;
}

export function createIdIndex(what: string): IdIndex {
  const ids = new Set<string>();
  return {
    add(id) {
      if (ids.has(id)) throw alreadyExists(`${what} ${id} already exists`);
      ids.add(id);
    },
    delete: (id) => void ids.delete(id),
    resolve(prefix) {
      if (prefix === "") throw invalidArgument(`${what} ID must not be empty`);
      if (ids.has(prefix)) return prefix;
      let found: string | undefined;
      for (const id of ids) {
        if (!id.startsWith(prefix)) continue;
        if (found !== undefined) throw invalidArgument(`${what} ID prefix "${prefix}" is ambiguous`);
        found = id;
      }
      if (found === undefined) throw notFound(`${what} "${prefix}" not found`);
      return found;
    },
    has: (id) => ids.has(id),
    ids: () => ids.values(),
  };
}
