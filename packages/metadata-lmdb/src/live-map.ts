/**
 * A read-only map that follows `source` as it changes, each value turned by `derive` once per
 * source value (a new value under the same key is derived afresh). Metadata hands these out
 * for snapshotters, so one registered while the daemon runs is usable at once by everyone
 * holding the map (services, transfer, the garbage collector).
 */
export function liveMap<V, W>(source: ReadonlyMap<string, V>, derive: (key: string, value: V) => W): ReadonlyMap<string, W> {
  const derived = new Map<string, { from: V; value: W }>();
  const get = (key: string): W | undefined => {
    const from = source.get(key);
    if (from === undefined) {
      derived.delete(key);
      return undefined;
    }
    const cached = derived.get(key);
    if (cached && cached.from === from) return cached.value;
    const value = derive(key, from);
    derived.set(key, { from, value });
    return value;
  };
  function* entries(): MapIterator<[string, W]> {
    for (const key of [...source.keys()]) {
      const value = get(key);
      if (value !== undefined) yield [key, value];
    }
    return undefined;
  }
  const view: ReadonlyMap<string, W> = {
    get,
    has: (key) => source.has(key),
    get size() {
      return source.size;
    },
    keys: () => source.keys(),
    values: function* (): MapIterator<W> {
      for (const [, v] of entries()) yield v;
      return undefined;
    },
    entries,
    forEach: (fn, thisArg) => {
      for (const [k, v] of entries()) fn.call(thisArg, v, k, view);
    },
    [Symbol.iterator]: entries,
  };
  return view;
}
