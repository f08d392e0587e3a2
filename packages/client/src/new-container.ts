import { randomBytes } from "node:crypto";
import { containersApi, leasesApi, runcOptions, snapshotsApi, packAny } from "@berth/api";
import { alreadyExists, failedPrecondition, isAlreadyExists, isNotFound, type Mount } from "@berth/core";
import type { Platform } from "@berth/image-spec";
import { withMounts } from "@berth/mount";
import {
  generateSpecFor,
  withAdditionalGids,
  withAnnotations,
  withDefaultSeccomp,
  withDefaultUnixDevices,
  withEnv,
  withHostname,
  withImageConfig,
  withProcessArgs,
  withProcessCwd,
  withTTY,
  withUser,
  type SpecOpt,
} from "@berth/oci";
import { containerHandle, type AnyMessage, type ContainerHandle } from "./container.js";
import { DEFAULT_RUNTIME } from "./daemon-runtime.js";
import { resolveImage, type ResolvedImage } from "./image-resolve.js";
import { readonlyMounts } from "./readonly-mounts.js";
import type { CallOptions, ServiceFactory } from "./service-client.js";
import { packSpec } from "./spec-any.js";

export const DEFAULT_SNAPSHOTTER = "overlayfs";
/** The container label naming the signal that stops it (from the image's StopSignal). */
export const STOP_SIGNAL_LABEL = "io.containerd.image.config.stop-signal";

export interface NewContainerOptions extends CallOptions {
  /** The image to run, by name in the image store; it must be unpacked in `snapshotter`. */
  readonly image: string;
  readonly snapshotter?: string | undefined;
  /** Runtime name (or a shim binary's absolute path); io.containerd.runc.v2 by default, as with ctr. */
  readonly runtime?: string | undefined;
  /** Runtime options; runc's empty Options for the runc runtimes, as ctr sends. */
  readonly runtimeOptions?: AnyMessage | undefined;
  /** The command: replaces the image's Entrypoint and Cmd, as `ctr run IMAGE ID CMD…` does. */
  readonly args?: readonly string[] | undefined;
  /** KEY=VALUE entries over the image's environment. */
  readonly env?: readonly string[] | undefined;
  readonly cwd?: string | undefined;
  /** "user", "uid", "user:group", "uid:gid": resolved in the image's /etc/passwd and /etc/group. */
  readonly user?: string | undefined;
  /** Give the process a terminal. */
  readonly tty?: boolean | undefined;
  readonly hostname?: string | undefined;
  /** containerd's default seccomp profile (ctr's --seccomp); off by default, as in ctr. */
  readonly seccomp?: boolean | undefined;
  /** Container labels (also set as spec annotations, as ctr does). */
  readonly labels?: Readonly<Record<string, string>> | undefined;
  /** More spec options, applied after the ones above. */
  readonly specOpts?: readonly SpecOpt[] | undefined;
  readonly platform?: Platform | undefined;
}

/** The runc shims take runc Options; ctr sends an empty one rather than none. */
function defaultRuntimeOptions(runtime: string): AnyMessage | undefined {
  return runtime === DEFAULT_RUNTIME || runtime === "io.containerd.berth.v2" ? packAny(runcOptions.OptionsSchema, {}) : undefined;
}

/** Labels in containerd's own namespaces steer the daemon; an image may not set them. */
const RESERVED_LABEL = /^(containerd\.io\/|io\.cri-containerd\.)/;

/**
 * Creates container `id` from an unpacked image as `ctr run` does: a writable snapshot on the
 * image's top chain ID (named after the container), a runtime spec from the image config with
 * users looked up in a read-only mount of that snapshot, then the container record; all under
 * a temporary lease, and undone if a step fails.
 */
export async function newContainer(service: ServiceFactory, namespace: string, id: string, opts: NewContainerOptions): Promise<ContainerHandle> {
  const snapshotter = opts.snapshotter || DEFAULT_SNAPSHOTTER;
  const runtime = opts.runtime || DEFAULT_RUNTIME;
  const image = await resolveImage(service, opts.image, opts);
  await requireUnpacked(service, image, snapshotter, opts);

  const leases = service(leasesApi.Leases);
  const lease = `berth-run-${randomBytes(8).toString("hex")}`;
  const expires = new Date(Date.now() + 24 * 3600_000).toISOString().replace(/\.\d+Z$/, "Z");
  await leases.create({ id: lease, labels: { "containerd.io/gc.expire": expires } }, opts);
  const leased: CallOptions = { ...opts, lease };
  const snapshots = service(snapshotsApi.Snapshots);
  let prepared = false;
  try {
    const { mounts } = await snapshots.prepare({ snapshotter, key: id, parent: image.chainId }, leased).catch((err: unknown) => {
      throw isAlreadyExists(err) ? alreadyExists(`container ${id}: snapshot "${id}" already exists in ${snapshotter}`, err) : err;
    });
    prepared = true;
    const rootfs: Mount[] = mounts.map((m) => ({ type: m.type, source: m.source, target: m.target, options: m.options }));
    const spec = await withMounts(readonlyMounts(rootfs), (root) => generateSpecFor({ namespace, id, rootfs: root, signal: opts.signal }, ...specOptions(image, opts)), {
      signal: opts.signal,
    });
    const labels = containerLabels(image, opts.labels);
    await service(containersApi.Containers).create(
      {
        container: {
          id,
          image: image.name,
          labels,
          runtime: { name: runtime, options: opts.runtimeOptions ?? defaultRuntimeOptions(runtime) },
          spec: packSpec(spec),
          snapshotter,
          snapshotKey: id,
        },
      },
      leased,
    );
  } catch (err) {
    if (prepared) await snapshots.remove({ snapshotter, key: id }, opts).catch(() => undefined);
    throw err;
  } finally {
    await leases.delete({ id: lease }, opts).catch(() => undefined);
  }
  return containerHandle(service, id);
}


/** containerd's Image.IsUnpacked: the snapshot named by the top chain ID exists. */
async function requireUnpacked(service: ServiceFactory, image: ResolvedImage, snapshotter: string, opts: CallOptions): Promise<void> {
  try {
    await service(snapshotsApi.Snapshots).stat({ snapshotter, key: image.chainId }, opts);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    throw failedPrecondition(
      `image ${image.name} is not unpacked in snapshotter ${snapshotter} (no snapshot ${image.chainId}): ` +
        `pull it with that snapshotter (berth images pull --snapshotter ${snapshotter} ${image.name}) or unpack it (ctr images unpack)`,
      err,
    );
  }
}

/** ctr run's spec options, in ctr's order. */
function specOptions(image: ResolvedImage, opts: NewContainerOptions): SpecOpt[] {
  const list: SpecOpt[] = [withDefaultUnixDevices, withEnv(opts.env ?? []), withImageConfig(image.runConfig)];
  if (opts.args && opts.args.length > 0) list.push(withProcessArgs(...opts.args));
  if (opts.cwd) list.push(withProcessCwd(opts.cwd));
  if (opts.user) list.push(withUser(opts.user), withAdditionalGids(opts.user));
  if (opts.tty) list.push(withTTY);
  if (opts.hostname) list.push(withHostname(opts.hostname));
  if (opts.seccomp) list.push(withDefaultSeccomp());
  list.push(...(opts.specOpts ?? []));
  if (opts.labels && Object.keys(opts.labels).length > 0) list.push(withAnnotations(opts.labels));
  return list;
}

/** The image config's labels (not containerd's reserved ones), the stop signal, then the caller's. */
function containerLabels(image: ResolvedImage, extra: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(image.runConfig.Labels ?? {})) if (!RESERVED_LABEL.test(k)) labels[k] = v;
  labels[STOP_SIGNAL_LABEL] = image.runConfig.StopSignal || "SIGTERM";
  return { ...labels, ...extra };
}
