import { decodeTable, schemaDefaults, toSnakeCase, type FieldSpec, type Schema } from "@berth/core";

/**
 * A nested TOML table decoded by its own schema (containerd's CRI section nests `cni`,
 * `registry` and `containerd` tables). A table with a bad value is refused whole, so the
 * loader reports it under the table's key and the defaults apply.
 */
export function tableField<C>(schema: Schema<C>, overrides: Partial<C> = {}): FieldSpec<C> {
  return {
    default: { ...schemaDefaults(schema), ...overrides },
    expected: `a table with ${Object.keys(schema).map(toSnakeCase).join(", ")}`,
    decode(raw) {
      if (!isTableLike(raw)) return undefined;
      const { value, errors } = decodeTable(schema, raw, "");
      return errors.length === 0 ? value : undefined;
    },
  };
}

/** A table of tables keyed by name (containerd's `runtimes.<name>`), each decoded by `entry`. */
export function tableMapField<C>(entry: FieldSpec<C>, def: Readonly<Record<string, C>>): FieldSpec<Readonly<Record<string, C>>> {
  return {
    default: def,
    expected: `a table of names, each ${entry.expected}`,
    decode(raw) {
      if (!isTableLike(raw)) return undefined;
      const out: Record<string, C> = {};
      for (const [name, value] of Object.entries(raw)) {
        const decoded = entry.decode(value);
        if (decoded === undefined) return undefined;
        out[name] = decoded;
      }
      return out;
    },
  };
}

/** Any TOML table, kept as it was written (runtime options are the runtime's to read). */
export const rawTableField = (): FieldSpec<Readonly<Record<string, unknown>>> => ({
  default: {},
  expected: "a table",
  decode: (raw) => (isTableLike(raw) ? raw : undefined),
});

function isTableLike(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}
