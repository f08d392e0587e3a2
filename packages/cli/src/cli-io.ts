import type { SignalSource } from "./signals.js";
import type { Terminal } from "./terminal.js";

/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM, ending streaming commands. */
  signal: AbortSignal;
  /** Whether `out` is a terminal (live progress bars) or not (plain lines). */
  tty?: boolean;
  /**
   * The standard streams a container attaches to (run, tasks start|exec). Without them the
   * process gets no stdin and its output goes through `out` and `err`.
   */
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** The CLI's terminal, needed by `-t`. */
  terminal?: Terminal;
  /** Signals to forward to an attached container; without it none are. */
  signals?: SignalSource;
}
