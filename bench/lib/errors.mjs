// "Not built yet" versus "broken": a daemon that answers Unimplemented (gRPC code 12, "unknown
// service", ctr's "does not implement the method") has no such service; the workload's figure
// for it is n/a. Any other failure is an error and is reported as one.
import { CommandError } from "./proc.mjs";

export class NotAvailable extends Error {
  constructor(reason) {
    super(reason);
    this.name = "NotAvailable";
  }
}

/** The daemon cannot give more valid samples (e.g. no GC to make the next pull cold): keep the ones taken. */
export class NoMoreRuns extends Error {
  constructor(reason) {
    super(reason);
    this.name = "NoMoreRuns";
  }
}

const UNIMPLEMENTED = /does not implement the method|code = Unimplemented|unknown service|\bnot implemented\b|\bunimplemented\b/i;

/** The NotAvailable an error stands for, or undefined when it is a real failure. */
export function asNotAvailable(err) {
  if (err instanceof NotAvailable) return err;
  if (err && typeof err === "object") {
    // @berth/client turns gRPC status 12 into a BerthError of class NotImplemented.
    if (err.errClass === "NotImplemented" || err.code === 12) return new NotAvailable(firstLine(err.message));
    if (err instanceof CommandError && UNIMPLEMENTED.test(err.output)) return new NotAvailable(firstLine(lastUnimplementedLine(err.output)));
    if (typeof err.message === "string" && err.name !== "CommandError" && UNIMPLEMENTED.test(err.message)) return new NotAvailable(firstLine(err.message));
  }
  return undefined;
}

/** Rethrows `err` as NotAvailable when it means "no such service", else as is. */
export function rethrowUnimplemented(err) {
  throw asNotAvailable(err) ?? err;
}

function lastUnimplementedLine(text) {
  return text.split("\n").filter((l) => UNIMPLEMENTED.test(l)).pop() ?? text;
}

function firstLine(text) {
  return String(text).split("\n")[0].replace(/^ctr: /, "").slice(0, 200);
}

export function errorText(err) {
  return err instanceof Error ? err.message : String(err);
}
