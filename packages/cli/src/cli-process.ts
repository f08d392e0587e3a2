import { classOf } from "@berth/core";
import { runCli, UsageError } from "./main.js";
import { processSignals } from "./signals.js";
import { processTerminal } from "./terminal.js";

/** Runs the CLI on this process's arguments and standard streams, then exits with its code. */
const controller = new AbortController();
const signals = processSignals(process, controller);
const terminal = processTerminal(process);

runCli(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  signal: controller.signal,
  tty: process.stdout.isTTY === true,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  ...(terminal ? { terminal } : {}),
  signals,
}).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    const prefix = err instanceof UsageError ? "" : `${classOf(err)}: `;
    process.stderr.write(`berth: ${prefix}${message}\n`);
    process.exit(1);
  },
);
