import { constants } from "node:os";

/**
 * A signal by name ("SIGKILL", "KILL", case-insensitive) or number, as ctr's ParseSignal takes it.
 */
export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n > 0 && n < 65) return n;
  } else {
    const upper = text.toUpperCase();
    const name = (upper.startsWith("SIG") ? upper : `SIG${upper}`) as keyof typeof constants.signals;
    const n = constants.signals[name];
    if (n !== undefined) return n;
  }
  throw new Error(`unknown signal "${text}"`);
}

export function signalNumber(name: NodeJS.Signals): number {
  return constants.signals[name];
}

/**
 * The signals `berth run` and `tasks exec|start` pass on to the container while attached
 * without a terminal, as ctr's ForwardAllSignals does (those Node lets a process catch).
 */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGTERM",
  "SIGUSR1",
  "SIGUSR2",
  "SIGALRM",
  "SIGCONT",
  "SIGWINCH",
  "SIGTSTP",
];

/** Where a command learns of signals sent to the CLI, and of the terminal changing size. */
export interface SignalSource {
  /** Receives FORWARDED_SIGNALS until the returned function is called; meanwhile they do not abort. */
  forward(handler: (signal: NodeJS.Signals) => void): () => void;
}

/**
 * A process's signals, dispatched: while something forwards them they go there; otherwise
 * the first SIGINT or SIGTERM aborts `controller` (and a second one gets the default action).
 */
export function processSignals(proc: NodeJS.Process, controller: AbortController): SignalSource {
  const forwarders = new Set<(signal: NodeJS.Signals) => void>();
  const onAbortSignal = (signal: NodeJS.Signals) => {
    if (forwarders.size > 0) return;
    proc.off("SIGINT", onAbortSignal);
    proc.off("SIGTERM", onAbortSignal);
    controller.abort(signal);
  };
  proc.on("SIGINT", onAbortSignal);
  proc.on("SIGTERM", onAbortSignal);
  return {
    forward(handler) {
      const listener = (signal: NodeJS.Signals) => handler(signal);
      forwarders.add(handler);
      for (const s of FORWARDED_SIGNALS) proc.on(s, listener);
      return () => {
        for (const s of FORWARDED_SIGNALS) proc.off(s, listener);
        forwarders.delete(handler);
      };
    },
  };
}
