import { describeExit, runProgram } from "@berth/native";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AnySchema, timestampDate } from "@bufbuild/protobuf/wkt";
import { shimTaskApi } from "@berth/api";
import { canceled, unknown, type Exit, type TypedValue } from "@berth/core";
import { parseStartOutput, type ShimAddress } from "./shim-address.js";

/** How the daemon invokes a shim binary (containerd's shim CommandConfig). */
export interface ShimInvocation {
  /** The resolved shim binary. */
  readonly binary: string;
  readonly namespace: string;
  readonly id: string;
  readonly bundle: string;
  /** The daemon's gRPC socket (`-address`, GRPC_ADDRESS). */
  readonly grpcAddress: string;
  /** Where shims send events over ttrpc (TTRPC_ADDRESS). */
  readonly ttrpcAddress: string;
  /** What shims run to publish events the old way (`-publish-binary`): berthd, which has `publish`. */
  readonly publishBinary: string;
  readonly debug: boolean;
  /** Extra `KEY=value` entries for the shim's environment. */
  readonly env: readonly string[];
}

// What a shim's start may print; an address is a line, a bootstrap result a few hundred bytes.
const MAX_OUTPUT = 64 * 1024;
// A shim whose server inherited our pipes keeps them open after `start` exits; what it printed
// before exiting is already in the pipe, so a short drain is enough.
const DRAIN_AFTER_EXIT_MS = 100;

/**
 * `<shim> -namespace NS -address GRPC -publish-binary BIN -id ID [-debug] start`, in the bundle,
 * with the runtime options (a protobuf Any) on stdin, as containerd 1.6 to 2.2 start shims.
 * The shim daemonises its server and prints how to reach it.
 */
export async function runShimStart(inv: ShimInvocation, options: TypedValue | undefined, signal?: AbortSignal): Promise<ShimAddress> {
  const stdin = options ? toBinary(AnySchema, create(AnySchema, { typeUrl: options.typeUrl, value: options.value })) : new Uint8Array();
  const { stdout } = await runShim(inv, ["start"], inv.bundle, stdin, signal);
  return parseStartOutput(stdout);
}

/**
 * `<shim> … -bundle DIR delete`: what containerd runs when a shim is gone, so the shim binary
 * cleans up after its dead server (runc delete --force, unmounts). The shim prints a
 * containerd.task.v2.DeleteResponse.
 */
export async function runShimDelete(inv: ShimInvocation, signal?: AbortSignal): Promise<{ exit: Exit; warnings: string }> {
  const { stdout, stderr } = await runShim(inv, ["-bundle", inv.bundle, "delete"], inv.bundle, undefined, signal);
  const response = fromBinary(shimTaskApi.DeleteResponseSchema, stdout);
  return {
    exit: {
      pid: response.pid,
      status: response.exitStatus,
      exitedAt: response.exitedAt ? timestampDate(response.exitedAt) : new Date(),
    },
    warnings: stderr.trim(),
  };
}

export function shimEnvironment(inv: ShimInvocation): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Go shims would otherwise start a thread per core; containerd caps them the same way.
    GOMAXPROCS: "2",
    MAX_SHIM_VERSION: "2",
    TTRPC_ADDRESS: inv.ttrpcAddress,
    GRPC_ADDRESS: inv.grpcAddress,
    NAMESPACE: inv.namespace,
  };
  for (const entry of inv.env) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

async function runShim(
  inv: ShimInvocation,
  action: readonly string[],
  cwd: string,
  stdin: Uint8Array | undefined,
  signal: AbortSignal | undefined,
): Promise<{ stdout: Uint8Array; stderr: string }> {
  signal?.throwIfAborted();
  const args = ["-namespace", inv.namespace, "-address", inv.grpcAddress, "-publish-binary", inv.publishBinary, "-id", inv.id];
  if (inv.debug) args.push("-debug");
  args.push(...action);
  // A session of its own: a signal sent to the daemon's process group (Ctrl-C on its
  // terminal) must never reach shims, which outlive the daemon.
  const { exit, stdout, stderr, aborted } = await runProgram(inv.binary, [inv.binary, ...args], {
    env: shimEnvironment(inv),
    cwd,
    ...(stdin ? { input: stdin } : {}),
    setsid: true,
    ...(signal ? { signal } : {}),
    maxOutput: MAX_OUTPUT,
    drainAfterExitMs: DRAIN_AFTER_EXIT_MS,
  });
  if (aborted) throw canceled(`shim ${action.at(-1)} canceled`, signal?.reason);
  const errText = stderr.toString("utf8");
  if (!exit.exited || exit.exitCode !== 0) {
    const detail = errText.trim() || stdout.toString("utf8").trim();
    throw unknown(`${inv.binary} ${action.at(-1)} failed: ${detail ? `${detail}: ` : ""}${describeExit(exit)}`);
  }
  return { stdout, stderr: errText };
}
