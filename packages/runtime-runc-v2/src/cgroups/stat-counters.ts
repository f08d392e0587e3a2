/** The keys of `T` whose values are bigint: a message's uint64 counters. */
export type CounterKey<T> = { [K in keyof T]-?: NonNullable<T[K]> extends bigint ? K : never }[keyof T];

/**
 * Picks counters out of a cgroup "key value" file by name. Kernel names and protobuf field
 * names differ (`pgpgin` is `pgPgIn`), so each message lists its own mapping; keys the kernel
 * adds that the message lacks are ignored.
 */
export function pickCounters<T>(values: ReadonlyMap<string, bigint>, fields: Readonly<Record<string, CounterKey<T>>>): Partial<Record<CounterKey<T>, bigint>> {
  const out: Partial<Record<CounterKey<T>, bigint>> = {};
  for (const [name, field] of Object.entries(fields)) {
    const value = values.get(name);
    if (value !== undefined) out[field] = value;
  }
  return out;
}
