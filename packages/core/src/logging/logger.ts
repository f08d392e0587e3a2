/** Log levels in containerd's order; `trace` is the most verbose. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Readonly<Record<string, unknown>>;

/** A structured logger: a message plus fields, never preformatted strings. */
export interface Logger {
  trace(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every entry. */
  with(fields: LogFields): Logger;
  readonly level: LogLevel;
}

const RESERVED = { time: true, level: true, msg: true };

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export interface JsonLoggerOptions {
  level: LogLevel;
  /** Where lines go; default stderr, as containerd logs. */
  write?: (line: string) => void;
  fields?: LogFields;
}

/** One JSON object per line: time, level, msg, then fields (errors as their message). */
export function createJsonLogger(opts: JsonLoggerOptions): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const threshold = LOG_LEVELS.indexOf(opts.level);
  const base = opts.fields ?? {};
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
    for (const [k, v] of Object.entries({ ...base, ...fields })) {
      // A field never replaces the entry's own keys; like logrus, a clash is kept as fields.<key>.
      entry[k in RESERVED ? `fields.${k}` : k] = v instanceof Error ? v.message : v;
    }
    write(JSON.stringify(entry) + "\n");
  };
  return {
    level: opts.level,
    trace: (m, f) => emit("trace", m, f),
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    with: (fields) => createJsonLogger({ ...opts, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything; for embedders and tests that do not want output. */
export const silentLogger: Logger = {
  level: "fatal",
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  with: () => silentLogger,
};
