/** The terminal the CLI runs in, for `-t`: raw mode and its size. */
export interface Terminal {
  /** Puts the terminal in raw mode; the returned function restores it. */
  setRaw(): () => void;
  size(): { readonly columns: number; readonly rows: number };
  /** Calls `handler` when the terminal is resized (SIGWINCH) until the returned function is called. */
  onResize(handler: () => void): () => void;
}

/** The process's own terminal when stdin and stdout both are one; undefined otherwise. */
export function processTerminal(proc: NodeJS.Process): Terminal | undefined {
  const stdin = proc.stdin as NodeJS.ReadStream;
  const stdout = proc.stdout as NodeJS.WriteStream;
  if (!stdin.isTTY || !stdout.isTTY) return undefined;
  return {
    setRaw() {
      stdin.setRawMode(true);
      return () => {
        stdin.setRawMode(false);
      };
    },
    size: () => ({ columns: stdout.columns, rows: stdout.rows }),
    onResize(handler) {
      // Node reads SIGWINCH itself and updates columns/rows before emitting "resize".
      stdout.on("resize", handler);
      return () => stdout.off("resize", handler);
    },
  };
}
