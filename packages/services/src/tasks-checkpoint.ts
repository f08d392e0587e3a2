// What Tasks.Checkpoint does around the runtime's checkpoint: where the image goes, and how a
// finished image enters the content store (containerd's media types and layout).
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { runcOptions, unpackAny } from "@berth/api";
import { internal, isAlreadyExists, type ContentStore, type Descriptor, type OpContext, type TypedValue } from "@berth/core";

/** containerd's media type of a checkpoint image tarball (criu's files). */
export const CHECKPOINT_MEDIA_TYPE = "application/vnd.containerd.container.criu.checkpoint.criu.tar";
/** containerd's media type of the container spec stored beside a checkpoint. */
export const CHECKPOINT_CONFIG_MEDIA_TYPE = "application/vnd.containerd.container.checkpoint.config.v1+proto";

/** The image path a client asked for in runc's CheckpointOptions ("" when none: the daemon picks one). */
export function requestedImagePath(options: TypedValue | undefined): string {
  if (!options) return "";
  return unpackAny(runcOptions.CheckpointOptionsSchema, options)?.imagePath ?? "";
}

/** The criu image path in runc's create Options, for a restore from a directory. */
export function requestedRestorePath(options: TypedValue | undefined): string {
  if (!options) return "";
  return unpackAny(runcOptions.OptionsSchema, options)?.criuImagePath ?? "";
}

/** A fresh directory for a checkpoint image, under $XDG_RUNTIME_DIR as containerd's. */
export function checkpointDir(): Promise<string> {
  return mkdtemp(join(process.env["XDG_RUNTIME_DIR"] || tmpdir(), "berth-checkpoint-"));
}

/**
 * Stores a finished checkpoint: the image directory as a tar and the container's spec (an
 * encoded Any) beside it. Returns their descriptors, image first.
 */
export async function storeCheckpoint(content: ContentStore, op: OpContext, image: string, spec: TypedValue | undefined): Promise<Descriptor[]> {
  const tar = await writeBlob(content, op, `checkpoint-${image}`, CHECKPOINT_MEDIA_TYPE, tarOf(image));
  const specBytes = toBinary(AnySchema, create(AnySchema, spec ? { typeUrl: spec.typeUrl, value: spec.value } : {}));
  const config = await writeBlob(content, op, `checkpoint-spec-${image}`, CHECKPOINT_CONFIG_MEDIA_TYPE, (async function* () {
    yield specBytes;
  })());
  return [tar, config];
}

export const removeCheckpointDir = (dir: string) => rm(dir, { recursive: true, force: true });

async function writeBlob(content: ContentStore, op: OpContext, ref: string, mediaType: string, data: AsyncIterable<Uint8Array>): Promise<Descriptor> {
  const writer = await content.writer(op, { ref });
  let size = 0;
  try {
    for await (const chunk of data) size = await writer.write(chunk);
    const digest = writer.digest();
    try {
      await writer.commit(0, "");
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    return { mediaType, digest, size, annotations: {} };
  } finally {
    await writer.close().catch(() => undefined);
  }
}

/** `dir` as an uncompressed tar stream (GNU tar: criu's files are plain files, nothing exotic). */
async function* tarOf(dir: string): AsyncIterable<Uint8Array> {
  const child = spawn("tar", ["-C", dir, "-cf", "-", "."], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
  } finally {
    if (child.exitCode === null) child.kill();
  }
  const code = await exited;
  if (code !== 0) throw internal(`tar of checkpoint ${dir} failed: ${stderr.trim() || `exit status ${code}`}`);
}
