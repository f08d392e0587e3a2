import { chmodSync, chownSync, mkdirSync, readlinkSync, renameSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { alreadyExists, internal, invalidArgument, validateIdentifier, type TypedValue } from "@berth/core";
import { unmountAll } from "@berth/mount";

/**
 * A task's OCI bundle: `<state>/<ns>/<id>` holds config.json, the rootfs mount point, the
 * shim's log FIFO and what the daemon needs to find the shim again after a restart; `work`
 * links to `<root>/<ns>/<id>`, a directory that survives reboots for the shim's own use.
 */
export interface Bundle {
  readonly id: string;
  readonly namespace: string;
  readonly path: string;
}

/** Where bundles live: the runtime plugin's state and root directories. */
export interface BundleDirs {
  readonly state: string;
  readonly root: string;
}

const SPEC_TYPE_SUFFIX = "opencontainers/runtime-spec/1/Spec";

/** The file in a bundle naming the shim binary, so a restarted daemon runs the same one. */
export const SHIM_BINARY_FILE = "shim-binary-path";

export function bundleOf(dirs: BundleDirs, namespace: string, id: string): Bundle {
  return { id, namespace, path: join(dirs.state, namespace, id) };
}

export const rootfsOf = (bundle: Bundle) => join(bundle.path, "rootfs");

/**
 * Creates the bundle for task `id`: its directory, rootfs mount point, work directory and
 * config.json from `spec`. AlreadyExists when a bundle of that ID is there; on failure nothing
 * is left behind. Synchronous calls on purpose: a dozen metadata operations on small files take
 * tens of microseconds each, while as promises each is a thread-pool round trip that queues
 * behind other I/O, which made this a few milliseconds of every task create.
 */
export async function createBundle(dirs: BundleDirs, namespace: string, id: string, spec: TypedValue | undefined): Promise<Bundle> {
  try {
    validateIdentifier(id);
  } catch (err) {
    throw invalidArgument(`invalid task id ${id}: ${(err as Error).message}`, err);
  }
  const bundle = bundleOf(dirs, namespace, id);
  const work = join(dirs.root, namespace, id);
  mkdirSync(dirname(bundle.path), { recursive: true, mode: 0o711 });
  try {
    mkdirSync(bundle.path, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") throw alreadyExists(`bundle for task ${id} already exists at ${bundle.path}`, err);
    throw err;
  }
  try {
    if (spec && spec.typeUrl.endsWith(SPEC_TYPE_SUFFIX)) allowRemappedRoot(bundle.path, spec.value);
    mkdirSync(rootfsOf(bundle), { mode: 0o711 });
    mkdirSync(dirname(work), { recursive: true, mode: 0o711 });
    // A work directory left from before a reboot (the state dir is on tmpfs, root is not) is stale.
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { mode: 0o711 });
    symlinkSync(work, join(bundle.path, "work"));
    if (spec && spec.value.length > 0) writeFileSync(join(bundle.path, "config.json"), spec.value, { mode: 0o666 });
  } catch (err) {
    await rm(bundle.path, { recursive: true, force: true }).catch(() => undefined);
    await rm(work, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
  return bundle;
}

/**
 * Removes the bundle: unmounts everything at or below its rootfs first (whoever mounted it,
 * the shim or nobody), so removing the directory can never reach into a container's
 * filesystem, then removes the bundle and its work directory. Idempotent.
 */
export async function deleteBundle(bundle: Bundle): Promise<void> {
  const rootfs = rootfsOf(bundle);
  await unmountAll(rootfs, { detachOnBusy: true });
  try {
    rmdirSync(rootfs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOTEMPTY after a complete unmount means files were written into the bare mount point: refuse to guess.
    if (code !== "ENOENT") throw internal(`failed to remove bundle rootfs ${rootfs}: ${code ?? (err as Error).message}`, err);
  }
  let work: string | undefined;
  try {
    work = readlinkSync(join(bundle.path, "work"));
  } catch {
    // no work link: a bundle whose creation stopped before it
  }
  // The bundle holds a dozen small files (the spec, the shim's pid and log files): removed
  // synchronously, as createBundle made them. The work directory is the shim's to fill.
  const hidden = hideForRemoval(bundle.path);
  if (hidden) rmSync(hidden, { recursive: true, force: true });
  const hiddenWork = work ? hideForRemoval(work) : undefined;
  if (hiddenWork) await rm(hiddenWork, { recursive: true, force: true });
}

/**
 * Renames `path` to a hidden sibling, so a crash mid-removal never leaves a half bundle under
 * its real name; gives that name, or undefined when `path` is already gone.
 */
function hideForRemoval(path: string): string | undefined {
  const hidden = join(dirname(path), `.${basename(path)}`);
  try {
    renameSync(path, hidden);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return hidden;
}

/**
 * With user namespaces, the container's root is some unprivileged host gid: it must be able to
 * enter the bundle (containerd gives that gid the directory, mode 0710).
 */
function allowRemappedRoot(path: string, specJson: Uint8Array): void {
  let spec: { linux?: { gidMappings?: { containerID?: number; hostID?: number }[] } };
  try {
    spec = JSON.parse(Buffer.from(specJson).toString("utf8")) as typeof spec;
  } catch (err) {
    throw invalidArgument(`container spec is not valid JSON: ${(err as Error).message}`, err);
  }
  const hostGid = spec.linux?.gidMappings?.find((m) => m.containerID === 0)?.hostID ?? 0;
  if (hostGid === 0) return;
  chownSync(path, -1, hostGid);
  chmodSync(path, 0o710);
}
