import { randomBytes } from "node:crypto";
import { closeSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReadStream } from "node:tty";
import { setTimeout as sleep } from "node:timers/promises";
import { internal } from "@berth/core";
import { receiveFd, setWindowSize, unixListen } from "@berth/native";
import { closeAll, openDevNull, openOutput, openStdinSource, writableFd, type StdinSource } from "./fifo.js";
import type { Stdio } from "./stdio.js";

/** The listening socket runc sends a new terminal's master to (`--console-socket`). */
export interface ConsoleSocket {
  readonly path: string;
  /** The master runc sent; call after runc create/exec has returned (it sends before returning). */
  receiveMaster(): number;
  close(): void;
}

export function createConsoleSocket(): ConsoleSocket {
  const path = join(tmpdir(), `berth-pty-${randomBytes(8).toString("hex")}.sock`);
  let fd: number | undefined = unixListen(path);
  const close = () => {
    if (fd === undefined) return;
    closeSync(fd);
    fd = undefined;
    try {
      unlinkSync(path);
    } catch {
      // gone already
    }
  };
  return {
    path,
    receiveMaster() {
      if (fd === undefined) throw internal("console socket is closed");
      const master = receiveFd(fd);
      if (master === undefined) throw internal("the OCI runtime did not send the console's master");
      return master;
    },
    close,
  };
}

/** A process's terminal as the shim serves it: output to the client's stdout, stdin to the terminal. */
export interface ProcessConsole {
  resize(width: number, height: number): void;
  /** CloseIO. */
  closeStdin(): void;
  /** After the process exited: waits (briefly) for the last output to reach the client, then releases all. */
  close(): Promise<void>;
}

// As containerd: a process's remaining output gets 2 s to drain after it exited.
const DRAIN_MS = 2_000;

/** Copies between a terminal's master and the client's FIFOs (stderr is part of the terminal). */
export function attachConsole(master: number, stdio: Stdio): ProcessConsole {
  let sinkFd: number | undefined;
  let source: StdinSource | undefined;
  let terminal: ReadStream;
  try {
    sinkFd = stdio.stdout !== "" ? openOutput(stdio.stdout) : openDevNull();
    source = stdio.stdin !== "" ? openStdinSource(stdio.stdin) : undefined;
    terminal = new ReadStream(master);
  } catch (err) {
    source?.close();
    closeAll([master, ...(sinkFd === undefined ? [] : [sinkFd])]);
    throw err;
  }
  const sink = writableFd(sinkFd);
  // The master reports EIO once every holder of the terminal is gone: that ends the output.
  terminal.on("error", () => terminal.destroy());
  terminal.pipe(sink, { end: false });
  const drained = new Promise<void>((resolve) => {
    terminal.once("close", () => {
      sink.end(() => resolve());
      sink.once("close", () => resolve());
    });
  });
  // A terminal has no end of input: stdin reaching end of file leaves it open, as containerd does.
  source?.stream.pipe(terminal, { end: false });

  return {
    resize(width, height) {
      if (terminal.destroyed) return;
      setWindowSize(master, height, width);
    },
    closeStdin() {
      source?.closeHolder();
    },
    async close() {
      await Promise.race([drained, sleep(DRAIN_MS, undefined, { ref: false })]);
      source?.close();
      terminal.destroy();
      sink.destroy();
    },
  };
}
