import { Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { ProcessHandle, ProcessStreams } from "@berth/client";
import { isNotFound } from "@berth/core";
import type { CliIo } from "./cli-io.js";
import { signalNumber } from "./signals.js";
import { UsageError } from "./usage-error.js";

export interface AttachMode {
  /** The process has a terminal: the CLI's, in raw mode. */
  readonly tty: boolean;
  /** Start it and return at once, leaving it running. */
  readonly detach: boolean;
  /** No IO at all (ctr's --null-io). */
  readonly nullIo: boolean;
  readonly fifoDir?: string | undefined;
}

/** Where the process's streams go: the CLI's own, or `out`/`err` when it has none (tests). */
export function streamsFor(io: CliIo, mode: AttachMode): ProcessStreams | "null" {
  if (mode.nullIo) {
    if (mode.tty) throw new UsageError("tty and null-io cannot be used together");
    return "null";
  }
  if (mode.tty && !io.terminal) throw new UsageError("-t needs a terminal: stdin and stdout of berth must be one");
  const stdout = io.stdout ?? textSink(io.out);
  // A detached process keeps its stdin closed: nobody stays to type into it.
  const stdin = mode.detach ? undefined : io.stdin;
  if (mode.tty) return { terminal: true, stdin, stdout, fifoDir: mode.fifoDir };
  return { stdin, stdout, stderr: io.stderr ?? textSink(io.err), fifoDir: mode.fifoDir };
}

function textSink(write: (text: string) => void): NodeJS.WritableStream {
  const decoder = new StringDecoder("utf8");
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      write(decoder.write(chunk));
      done();
    },
    final(done) {
      write(decoder.end());
      done();
    },
  });
}

/**
 * Starts a created process and stays with it as ctr does: its terminal resized with ours, or
 * our signals forwarded to it; returns its exit status once it is gone and deleted. Detached,
 * returns 0 as soon as it runs.
 */
export async function startAttached(proc: ProcessHandle, io: CliIo, mode: AttachMode): Promise<number> {
  let exited: Promise<{ code: number }> | undefined;
  let deleted = false;
  const cleanups: (() => void)[] = [];
  try {
    if (!mode.detach) {
      exited = proc.wait({ signal: io.signal });
      exited.catch(() => {});
    }
    // Forwarding starts before the process does, so a signal sent once it runs (even before
    // Start has answered) reaches it rather than interrupting berth; until then they queue.
    let running = false;
    const pending: NodeJS.Signals[] = [];
    const forward = (signal: NodeJS.Signals) => {
      if (!running) return void pending.push(signal);
      proc.kill(signalNumber(signal)).catch((err: unknown) => {
        if (!isNotFound(err)) io.err(`berth: forward signal ${signal}: ${String(err)}\n`);
      });
    };
    if (!mode.detach && !mode.tty && io.signals) cleanups.push(io.signals.forward(forward));
    await proc.start();
    running = true;
    for (const signal of pending.splice(0)) forward(signal);
    if (mode.detach) {
      proc.io?.cancel();
      return 0;
    }
    if (mode.tty && io.terminal) {
      const terminal = io.terminal;
      const resize = () => {
        const { columns, rows } = terminal.size();
        proc.resize(columns, rows).catch((err: unknown) => io.err(`berth: resize pty: ${String(err)}\n`));
      };
      resize();
      cleanups.push(terminal.onResize(resize));
    }
    await exited;
    for (const c of cleanups.splice(0)) c();
    const status = await proc.delete();
    deleted = true;
    return status.code;
  } finally {
    for (const c of cleanups) c();
    if (!mode.detach && !deleted) {
      // Interrupted or failed: as ctr's deferred delete, kill what runs and delete it.
      await proc.delete({ force: true }).catch((err: unknown) => {
        if (!isNotFound(err)) io.err(`berth: failed to clean up task: ${String(err)}\n`);
      });
    }
  }
}
