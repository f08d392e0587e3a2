import { randomBytes } from "node:crypto";
import { constants } from "node:os";
import type { Readable } from "node:stream";
import { deadlineExceeded, failedPrecondition, type ConsoleSize } from "@berth/core";
import { parseSpec, specToJSON, type Spec } from "@berth/oci";
import { execIoParent, opContext, taskRuntime, type ContainerContext } from "./container-context.js";
import type { ContainerEntry } from "./container-store.js";
import { makeFifos, openFifoIo, type OutputSink } from "./fifo-io.js";
import { stateName } from "./start-container.js";

export const PROCESS_SPEC_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Process";

export interface ExecOptions {
  readonly cmd: readonly string[];
  readonly tty: boolean;
  readonly stdin?: Readable | undefined;
  readonly stdout?: OutputSink | undefined;
  readonly stderr?: OutputSink | undefined;
  readonly resize?: AsyncIterable<ConsoleSize> | undefined;
  /** 0 = none; past it the process is killed and DeadlineExceeded thrown. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/**
 * Runs `cmd` in a running container as an exec process with FIFOs this daemon serves: the
 * container's process spec with the new args (and TERM=xterm on a terminal), streams as asked.
 * Resolves with the exit code once its output is drained; the process is deleted in every case.
 * A timeout, or the caller going away, kills it.
 */
export async function runExec(c: ContainerContext, entry: ContainerEntry, opts: ExecOptions): Promise<number> {
  const { record } = entry;
  if (record.status.state !== "running") throw failedPrecondition(`container ${record.id} is in ${stateName(record.status.state)} state`);
  if (opts.cmd.length === 0) throw failedPrecondition("exec needs a command");
  const ctx = opContext();
  const task = await taskRuntime(c).get(ctx, record.id);
  const container = await c.base.metadata.containers.get(ctx, record.id);
  const spec: Spec = parseSpec(Buffer.from(container.spec?.value ?? new Uint8Array()).toString("utf8") || "{}");
  const process = spec.process;
  if (process === undefined) throw failedPrecondition(`container ${record.id} has no process spec`);
  process.args = [...opts.cmd];
  process.terminal = opts.tty;
  if (opts.tty) process.env = [...(process.env ?? []).filter((e) => !e.startsWith("TERM=")), "TERM=xterm"];
  const execId = randomBytes(16).toString("hex");
  const fifos = await makeFifos({ parent: execIoParent(c, record.id) }, execId, {
    stdin: opts.stdin !== undefined,
    stdout: opts.stdout !== undefined,
    stderr: opts.stderr !== undefined,
    terminal: opts.tty,
  });
  const io = openFifoIo(fifos, { stdout: opts.stdout, stderr: opts.stderr }, { placeholders: true, dir: fifos.dir });
  try {
    const proc = await task.exec(execId, { spec: { typeUrl: PROCESS_SPEC_TYPE_URL, value: Buffer.from(specToJSON(process as unknown as Spec)) }, io: fifos });
    try {
      try {
        await proc.start();
      } finally {
        io.started();
      }
      if (opts.stdin !== undefined && io.stdin !== undefined) {
        const input = opts.stdin;
        input.pipe(io.stdin, { end: false });
        input.once("end", () => {
          io.closeStdin();
          void proc.closeIO().catch(() => undefined);
        });
      }
      if (opts.resize !== undefined) void followResizes(opts.resize, (size) => proc.resizePty(size));
      // A process that already exited cannot be killed; its wait answers anyway.
      const kill = () => proc.kill(constants.signals.SIGKILL, false).catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;
      const onAbort = () => void kill();
      opts.signal.addEventListener("abort", onAbort, { once: true });
      if (opts.timeoutMs > 0) {
        timer = setTimeout(() => {
          timedOut = true;
          void kill();
        }, opts.timeoutMs);
      }
      let exit;
      try {
        exit = await proc.wait();
      } finally {
        clearTimeout(timer);
        opts.signal.removeEventListener("abort", onAbort);
      }
      if (timedOut) throw deadlineExceeded(`timeout ${opts.timeoutMs / 1000}s exceeded: context deadline exceeded`);
      await Promise.race([io.outputDone, abortPromise(opts.signal)]);
      return exit.status;
    } finally {
      await proc.delete().catch(() => undefined);
    }
  } finally {
    await io.close();
  }
}

async function followResizes(sizes: AsyncIterable<ConsoleSize>, apply: (s: ConsoleSize) => Promise<void>): Promise<void> {
  try {
    for await (const s of sizes) await apply(s).catch(() => undefined);
  } catch {
    // the session ended
  }
}

function abortPromise(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** Collects a stream's output up to `limit` bytes (what is beyond is dropped). */
export function boundedCollector(limit: number): OutputSink & { bytes(): Buffer } {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    data(chunk) {
      if (size >= limit) return;
      const part = chunk.subarray(0, limit - size);
      chunks.push(Buffer.from(part));
      size += part.length;
    },
    end() {},
    bytes: () => Buffer.concat(chunks),
  };
}
