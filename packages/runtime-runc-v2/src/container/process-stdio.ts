import { attachConsole, createConsoleSocket, type ConsoleSocket } from "../io/console.js";
import { closeAll, openDevNull } from "../io/fifo.js";
import { createProcessIo, type ProcessIo } from "../io/process-io.js";
import type { Stdio } from "../io/stdio.js";
import type { Reaper } from "../process/reaper.js";
import type { ShimProcess } from "./shim-process.js";

/** A process's stdio, ready before runc runs it: what runc gets, and what to do once it returned. */
export interface PreparedStdio {
  readonly runcStdio: readonly [number, number, number];
  readonly consoleSocket: string | undefined;
  /** runc succeeded: take the terminal's master, or start copying stdin. */
  attach(process: ShimProcess): void;
  /** runc failed: release everything. */
  abort(): Promise<void>;
}

export async function prepareStdio(
  stdio: Stdio,
  ids: { containerId: string; namespace: string },
  reaper: Reaper,
): Promise<PreparedStdio> {
  if (stdio.terminal) return prepareTerminal(stdio);
  const io: ProcessIo = await createProcessIo({ stdio, ...ids, reaper });
  return {
    runcStdio: io.stdio,
    consoleSocket: undefined,
    attach(process) {
      io.started();
      process.io = io;
    },
    abort: () => io.close(),
  };
}

/** runc makes the terminal and sends its master over a socket; its own stdio is /dev/null. */
function prepareTerminal(stdio: Stdio): PreparedStdio {
  const devNull = openDevNull();
  let socket: ConsoleSocket;
  try {
    socket = createConsoleSocket();
  } catch (err) {
    closeAll([devNull]);
    throw err;
  }
  const release = () => {
    socket.close();
    closeAll([devNull]);
  };
  return {
    runcStdio: [devNull, devNull, devNull],
    consoleSocket: socket.path,
    attach(process) {
      try {
        process.console = attachConsole(socket.receiveMaster(), stdio);
      } finally {
        release();
      }
    },
    async abort() {
      release();
    },
  };
}
