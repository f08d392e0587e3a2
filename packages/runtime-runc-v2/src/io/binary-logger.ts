import { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { internal } from "@berth/core";
import { pipe } from "@berth/native";
import type { Reaper } from "../process/reaper.js";
import { closeAll, openDevNull } from "./fifo.js";

/** A running logging binary (a `binary://` stdout URI) and the pipe ends the process writes to. */
export interface BinaryLogger {
  readonly stdout: number;
  readonly stderr: number;
  /** Drops the shim's copies of the write ends, once the process holds its own. */
  closeWriteEnds(): void;
  /** SIGTERM, a grace period to flush, then SIGKILL. */
  stop(): Promise<void>;
}

// containerd gives its logging binaries 12 s to flush before killing them.
const STOP_GRACE_MS = 12_000;

/**
 * Starts a logging binary the containerd way: the process's stdout and stderr pipes arrive as
 * fds 3 and 4, fd 5 is closed (or written to) when the logger is ready, and CONTAINER_ID and
 * CONTAINER_NAMESPACE name the container. Resolves once the logger is ready.
 */
export async function startBinaryLogger(
  reaper: Reaper,
  target: { path: string; args: readonly string[] },
  ids: { containerId: string; namespace: string },
): Promise<BinaryLogger> {
  const [outRead, outWrite] = pipe();
  const [errRead, errWrite] = pipe();
  const [readyRead, readyWrite] = pipe();
  const devNull = openDevNull();
  let child;
  try {
    child = reaper.spawn(target.path, [target.path, ...target.args], {
      fds: [devNull, devNull, devNull, outRead, errRead, readyWrite],
      env: [`CONTAINER_ID=${ids.containerId}`, `CONTAINER_NAMESPACE=${ids.namespace}`],
    });
  } catch (err) {
    closeAll([outWrite, errWrite, readyRead]);
    throw internal(`failed to start binary logger ${target.path}: ${(err as Error).message}`, err);
  } finally {
    // The logger has its copies (or failed to start): the shim keeps only the write ends.
    closeAll([outRead, errRead, readyWrite, devNull]);
  }
  const exited = child.exited;
  const ready = await Promise.race([waitReadable(readyRead).then(() => "ready" as const), exited.then(() => "exited" as const)]);
  if (ready === "exited") {
    closeAll([outWrite, errWrite]);
    throw internal(`binary logger ${target.path} exited before it was ready`);
  }
  let writeEndsOpen = true;
  const closeWriteEnds = () => {
    if (!writeEndsOpen) return;
    writeEndsOpen = false;
    closeAll([outWrite, errWrite]);
  };
  return {
    stdout: outWrite,
    stderr: errWrite,
    closeWriteEnds,
    async stop() {
      closeWriteEnds();
      signal(child.pid, "SIGTERM");
      const gone = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS, false, { ref: false })]);
      if (!gone) {
        signal(child.pid, "SIGKILL");
        await exited;
      }
    },
  };
}

/** Resolves when the ready pipe has a byte or reaches end of file; closes it. */
function waitReadable(fd: number): Promise<void> {
  const socket = new Socket({ fd, readable: true, writable: false });
  return new Promise((resolve) => {
    const done = () => {
      socket.destroy();
      resolve();
    };
    socket.once("data", done);
    socket.once("end", done);
    socket.once("error", done);
    socket.once("close", done);
  });
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}
