import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, rmdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { runcOptions } from "@berth/api";
import { failedPrecondition, internal, invalidArgument } from "@berth/core";
import type { AnyMessage } from "../runc/runc-options-any.js";
import { runcFailureOf, type Runc } from "../runc/runc.js";

export interface CheckpointRequest {
  readonly id: string;
  readonly bundle: string;
  /** Where containerd wants the image (a directory it made, usually empty). */
  readonly imagePath: string;
  readonly options: AnyMessage | undefined;
  /** criu's work directory when the options name none (removed afterwards). */
  readonly defaultWorkPath: string;
}

/**
 * Checkpoints a container with `runc checkpoint` (criu underneath), all or nothing: criu writes
 * into a fresh directory beside the image path, which is moved into place only once the dump
 * succeeded. On failure the error names criu and where its log was kept, and the image path
 * holds nothing new. With `exit` unset the task keeps running either way.
 */
export async function checkpointContainer(runc: Runc, request: CheckpointRequest): Promise<void> {
  const options = decodeCheckpointOptions(request.options);
  const imagePath = request.imagePath || options.imagePath;
  if (imagePath === "") throw invalidArgument("checkpoint: no image path given");
  await mkdir(imagePath, { recursive: true });
  const staging = await mkdtemp(join(dirname(imagePath), `.${basename(imagePath)}.partial-`));
  const ownWork = options.workPath === "";
  const workPath = ownWork ? request.defaultWorkPath : options.workPath;
  await mkdir(workPath, { recursive: true });
  try {
    await runc.checkpoint(request.id, {
      imagePath: staging,
      workPath,
      ...(options.parentPath ? { parentPath: options.parentPath } : {}),
      leaveRunning: !options.exit,
      allowOpenTcp: options.openTcp,
      allowExternalUnixSockets: options.externalUnixSockets,
      allowTerminal: options.terminal,
      fileLocks: options.fileLocks,
      emptyNamespaces: options.emptyNamespaces,
    });
    for (const name of await readdir(staging)) await rename(join(staging, name), join(imagePath, name));
    await rmdir(staging);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw await criuError(err, request.bundle, workPath);
  } finally {
    if (ownWork) await rm(workPath, { recursive: true, force: true });
  }
}

interface CheckpointOptions {
  readonly exit: boolean;
  readonly openTcp: boolean;
  readonly externalUnixSockets: boolean;
  readonly terminal: boolean;
  readonly fileLocks: boolean;
  readonly emptyNamespaces: readonly string[];
  readonly imagePath: string;
  readonly workPath: string;
  readonly parentPath: string;
}

function decodeCheckpointOptions(any: AnyMessage | undefined): CheckpointOptions {
  const none: CheckpointOptions = { exit: false, openTcp: false, externalUnixSockets: false, terminal: false, fileLocks: false, emptyNamespaces: [], imagePath: "", workPath: "", parentPath: "" };
  if (!any || any.typeUrl === "") return none;
  const name = any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1);
  if (name !== runcOptions.CheckpointOptionsSchema.typeName) throw invalidArgument(`checkpoint: unsupported options type ${any.typeUrl}`);
  const o = fromBinary(runcOptions.CheckpointOptionsSchema, any.value);
  return {
    exit: o.exit,
    openTcp: o.openTcp,
    externalUnixSockets: o.externalUnixSockets,
    terminal: o.terminal,
    fileLocks: o.fileLocks,
    emptyNamespaces: o.emptyNamespaces,
    imagePath: o.imagePath,
    workPath: o.workPath,
    parentPath: o.parentPath,
  };
}

/**
 * "checkpoint failed: criu could not dump the container: <why>; the task was left running;
 * criu's log: <bundle>/criu-dump.log" — criu's own log is copied out of the work directory
 * before that is removed, as containerd does.
 */
async function criuError(err: unknown, bundle: string, workPath: string): Promise<Error> {
  const failure = runcFailureOf(err);
  if (!failure) return err instanceof Error ? err : internal(String(err));
  const savedLog = join(bundle, "criu-dump.log");
  const copied = await copyFile(join(workPath, "dump.log"), savedLog).then(
    () => true,
    () => false,
  );
  const criuLine = copied ? await firstCriuError(savedLog) : undefined;
  const runtimeLine = (failure.runtimeMessage ?? failure.output).split("\n")[0]?.trim() ?? "";
  const why = [runtimeLine, criuLine].filter((s) => s !== undefined && s !== "").join(" — ");
  const message = `checkpoint failed: criu could not dump the container${why ? `: ${why}` : ""}; the task was left running${copied ? `; criu's log: ${savedLog}` : ""}`;
  return failure.runtimeMessage?.includes("does not exist") ? failedPrecondition(message, err) : internal(message, err);
}

async function firstCriuError(logPath: string): Promise<string | undefined> {
  const text = await readFile(logPath, "utf8").catch(() => "");
  return /^\(?[\d.\s]*\)?\s*Error \(([^)]*)\):\s*(.+)$/m.exec(text)?.slice(1, 3).join(": ");
}
