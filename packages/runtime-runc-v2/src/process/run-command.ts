import { closeSync, openSync } from "node:fs";
import { pipe, readPipe, writePipe, type ReapedChild } from "@berth/native";
import type { Reaper } from "./reaper.js";

export interface CommandOptions {
  /** Bytes for the command's stdin (closed after them); default /dev/null. */
  readonly input?: Uint8Array;
  /**
   * The command's stdio as descriptors [stdin, stdout, stderr], for commands whose stdio a
   * container inherits (runc create, runc exec). Default: stdin /dev/null or `input`, stdout
   * and stderr collected into `output`.
   */
  readonly stdio?: readonly [number, number, number];
  readonly cwd?: string;
  readonly env?: readonly string[];
}

export interface CommandResult {
  readonly exit: ReapedChild;
  /** stdout and stderr together, as go-runc reads them; empty when `stdio` was given. */
  readonly output: string;
}

/**
 * Runs a short command through the reaper and waits for it: its exit and everything it wrote.
 * Collected output is read until end of file, so a command must not leave processes holding its
 * stdout (runc create and exec do, and take `stdio` instead).
 */
export async function runCommand(reaper: Reaper, file: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const owned: number[] = [];
  const own = (fd: number) => (owned.push(fd), fd);
  let fds: readonly number[];
  let output: Promise<string> = Promise.resolve("");
  let input: Promise<void> = Promise.resolve();
  try {
    if (options.stdio) {
      fds = options.stdio;
    } else {
      let stdin: number;
      if (options.input) {
        const [read, write] = pipe();
        stdin = own(read);
        input = writePipe(write, options.input);
      } else {
        stdin = own(openSync("/dev/null", "r"));
      }
      const [read, write] = pipe();
      own(write);
      output = readPipe(read).data.then((bytes) => bytes.toString("utf8"));
      fds = [stdin, write, write];
    }
    const child = reaper.spawn(file, [file, ...args], {
      fds,
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      ...(options.env !== undefined ? { env: options.env } : {}),
    });
    // The child has its copies; ours would keep the output pipe from reaching end of file.
    for (const fd of owned.splice(0)) closeSync(fd);
    const [exit, text] = await Promise.all([child.exited, output, input.catch(() => {})]);
    return { exit, output: text };
  } finally {
    for (const fd of owned) closeSync(fd);
  }
}
