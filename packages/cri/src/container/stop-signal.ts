import { constants } from "node:os";
import { invalidArgument } from "@berth/core";

/** An image's StopSignal ("SIGTERM", "TERM", "15"; "" → SIGTERM) as a signal number. */
export function parseStopSignal(raw: string | undefined): number {
  const s = (raw ?? "").trim().toUpperCase();
  if (s === "") return constants.signals.SIGTERM;
  if (/^\d+$/.test(s)) return Number(s);
  const name = (s.startsWith("SIG") ? s : `SIG${s}`) as keyof typeof constants.signals;
  const n = constants.signals[name];
  if (n === undefined) throw invalidArgument(`unknown stop signal ${JSON.stringify(raw)}`);
  return n;
}
