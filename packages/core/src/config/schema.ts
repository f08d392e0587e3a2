/**
 * A small typed schema for TOML configuration: each field has a default and a decoder that
 * says what it expected. Property names are camelCase in TypeScript and snake_case in TOML
 * (`syncRemove` ↔ `sync_remove`), converted by rule, never by hand.
 */
export interface FieldSpec<V> {
  readonly default: V;
  /** What a valid value looks like, for error messages ("a string", "one of: a, b"). */
  readonly expected: string;
  /** The decoded value, or undefined when `raw` is not acceptable. */
  decode(raw: unknown): V | undefined;
  /** The TOML form of a decoded value, where it is not the value itself (nested tables). */
  encode?(value: V): unknown;
}

export type Schema<C> = { readonly [K in keyof C]: FieldSpec<C[K]> };

export type ConfigOf<S> = S extends Schema<infer C> ? C : never;

/** A problem found while decoding: `key` is the dotted TOML path. */
export interface ConfigIssue {
  readonly key: string;
  readonly message: string;
}

const spec = <V>(def: V, expected: string, decode: (raw: unknown) => V | undefined): FieldSpec<V> => ({
  default: def,
  expected,
  decode,
});

export const field = {
  string: (def: string) => spec(def, "a string", (v) => (typeof v === "string" ? v : undefined)),
  boolean: (def: boolean) => spec(def, "true or false", (v) => (typeof v === "boolean" ? v : undefined)),
  integer: (def: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) =>
    spec(def, `an integer from ${min} to ${max}`, (v) => {
      const n = typeof v === "bigint" ? Number(v) : v;
      return typeof n === "number" && Number.isInteger(n) && n >= min && n <= max ? n : undefined;
    }),
  stringArray: (def: readonly string[]) =>
    spec(def, "an array of strings", (v) =>
      Array.isArray(v) && v.every((s) => typeof s === "string") ? (v as string[]) : undefined,
    ),
  oneOf: <T extends string>(def: T, values: readonly T[]) =>
    spec(def, `one of: ${values.join(", ")}`, (v) =>
      typeof v === "string" && (values as readonly string[]).includes(v) ? (v as T) : undefined,
    ),
  /** containerd's duration strings ("10s", "1m30s", "100ms") or a number of seconds; decoded to ms. */
  duration: (defMs: number) =>
    spec(defMs, 'a duration such as "10s", "1m30s" or "250ms"', (v) =>
      typeof v === "number" && v >= 0 ? v * 1000 : typeof v === "string" ? parseDuration(v) : undefined,
    ),
  /**
   * A nested table decoded by its own schema (containerd's CRI section nests `cni`, `registry`,
   * `containerd`). A table with a bad value is refused whole: the loader reports it under the
   * table's key and the defaults apply.
   */
  table: <C>(schema: Schema<C>, overrides: Partial<C> = {}): FieldSpec<C> => ({
    default: { ...schemaDefaults(schema), ...overrides },
    expected: `a table with ${Object.keys(schema).map(toSnakeCase).join(", ")}`,
    decode(raw) {
      if (!isTable(raw)) return undefined;
      const { value, errors } = decodeTable(schema, raw, "");
      return errors.length === 0 ? value : undefined;
    },
    encode: (value) => encodeTable(schema, value),
  }),
  /** A table of tables keyed by name (containerd's `runtimes.<name>`), each decoded by `entry`. */
  tableMap: <C>(entry: FieldSpec<C>, def: Readonly<Record<string, C>>): FieldSpec<Readonly<Record<string, C>>> => ({
    default: def,
    expected: `a table of names, each ${entry.expected}`,
    decode(raw) {
      if (!isTable(raw)) return undefined;
      const out: Record<string, C> = {};
      for (const [name, value] of Object.entries(raw)) {
        const decoded = entry.decode(value);
        if (decoded === undefined) return undefined;
        out[name] = decoded;
      }
      return out;
    },
    encode: (value) =>
      Object.fromEntries(Object.entries(value).map(([name, v]) => [name, entry.encode ? entry.encode(v) : v])),
  }),
  /** Any TOML table, kept as it was written (a runtime's options are the runtime's to read). */
  rawTable: () => spec<Readonly<Record<string, unknown>>>({}, "a table", (v) => (isTable(v) ? v : undefined)),
  /** A table of string values, such as labels. */
  stringMap: (def: Readonly<Record<string, string>>) =>
    spec(def, "a table of strings", (v) =>
      isTable(v) && Object.values(v).every((s) => typeof s === "string") ? (v as Record<string, string>) : undefined,
    ),
};

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses Go's duration syntax into milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  if (text === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    at = re.lastIndex;
  }
  return at > 0 ? total : undefined;
}

/** Every field at its default. */
export function schemaDefaults<C>(schema: Schema<C>): C {
  const value = {} as C;
  for (const name of Object.keys(schema) as (keyof C)[]) value[name] = schema[name].default;
  return value;
}

export function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

export const toSnakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * Decodes `raw` (a TOML table, possibly undefined) against `schema`. Bad values become issues
 * and keep their default; unknown keys become warnings. `prefix` is the table's dotted path.
 */
export function decodeTable<C>(
  schema: Schema<C>,
  raw: unknown,
  prefix: string,
): { value: C; errors: ConfigIssue[]; warnings: ConfigIssue[] } {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const value = {} as C;
  const table = raw === undefined ? {} : raw;
  const keyOf = (k: string) => (prefix ? `${prefix}.${k}` : k);
  if (!isTable(table)) {
    errors.push({ key: prefix, message: "expected a table" });
    return { value: schemaDefaults(schema), errors, warnings };
  }
  const known = new Set<string>();
  for (const name of Object.keys(schema) as (keyof C & string)[]) {
    const tomlKey = toSnakeCase(name);
    known.add(tomlKey);
    const fieldSpec = schema[name];
    const rawValue = table[tomlKey];
    if (rawValue === undefined) {
      value[name] = fieldSpec.default;
      continue;
    }
    const decoded = fieldSpec.decode(rawValue);
    if (decoded === undefined) {
      errors.push({ key: keyOf(tomlKey), message: `expected ${fieldSpec.expected}, got ${describe(rawValue)}` });
      value[name] = fieldSpec.default;
    } else {
      value[name] = decoded;
    }
  }
  for (const key of Object.keys(table)) {
    if (!known.has(key)) warnings.push({ key: keyOf(key), message: "unknown key (ignored)" });
  }
  return { value, errors, warnings };
}

/** The TOML table a decoded value came from: snake_case keys, durations back to strings. */
export function encodeTable<C>(schema: Schema<C>, value: C): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(schema) as (keyof C & string)[]) {
    const v = value[name];
    const fieldSpec = schema[name];
    out[toSnakeCase(name)] = fieldSpec.encode
      ? fieldSpec.encode(v)
      : fieldSpec.expected.startsWith("a duration")
        ? `${v as number}ms`
        : v;
  }
  return out;
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return "an array";
  if (isTable(v)) return "a table";
  return `${typeof v} ${String(v)}`;
}
