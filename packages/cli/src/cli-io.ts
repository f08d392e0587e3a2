/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM, ending streaming commands. */
  signal: AbortSignal;
  /** Whether `out` is a terminal (live progress bars) or not (plain lines). */
  tty?: boolean;
}
