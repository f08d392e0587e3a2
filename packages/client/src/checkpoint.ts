import { randomBytes } from "node:crypto";
import { containersApi, contentApi, diffApi, imagesApi, leasesApi, packAny, runcOptions, snapshotsApi, taskTypes, tasksApi } from "@berth/api";
import { invalidArgument } from "@berth/core";
import { hostPlatform } from "@berth/image-spec";
import { writeContentBlob } from "./content-blob.js";
import type { CallOptions, ServiceFactory } from "./service-client.js";

export interface CheckpointOptions extends CallOptions {
  /** The image to create; containerd.io/checkpoint/<id>:<date> by default. */
  readonly name?: string | undefined;
  /** Stop the task after checkpointing it. */
  readonly exit?: boolean | undefined;
  /** Leave criu's files in this directory instead of making an image of them. */
  readonly imagePath?: string | undefined;
  readonly workPath?: string | undefined;
}

interface IndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

const RUNC_RUNTIMES = new Set(["io.containerd.runc.v2", "io.containerd.berth.v2"]);
export const CHECKPOINT_LABEL = "containerd.io/checkpoint";

/**
 * Checkpoints task `id` as containerd's client does: paused while it happens (resumed after,
 * whatever the outcome), the shim's checkpoint blobs, the container's image and a diff of its
 * writable snapshot gathered in an OCI index, stored in content and named as an image, all
 * under a temporary lease. Returns the image name ("" when criu's files stay in `imagePath`).
 */
export async function checkpointTask(service: ServiceFactory, id: string, opts: CheckpointOptions = {}): Promise<string> {
  const leases = service(leasesApi.Leases);
  const lease = `berth-checkpoint-${randomBytes(8).toString("hex")}`;
  const expires = new Date(Date.now() + 24 * 3600_000).toISOString().replace(/\.\d+Z$/, "Z");
  await leases.create({ id: lease, labels: { "containerd.io/gc.expire": expires } }, opts);
  const leased: CallOptions = { ...opts, lease };
  try {
    return await checkpointLeased(service, id, opts, leased);
  } finally {
    await leases.delete({ id: lease }, opts).catch(() => undefined);
  }
}

async function checkpointLeased(service: ServiceFactory, id: string, opts: CheckpointOptions, leased: CallOptions): Promise<string> {
  const tasks = service(tasksApi.Tasks);
  const { container } = await service(containersApi.Containers).get({ id }, leased);
  if (!container) throw invalidArgument(`container ${id}: empty answer`);
  const runtime = container.runtime?.name ?? "";
  const name = opts.name ?? `containerd.io/checkpoint/${id}:${checkpointDate(new Date())}`;
  const options = RUNC_RUNTIMES.has(runtime)
    ? packAny(runcOptions.CheckpointOptionsSchema, { exit: opts.exit ?? false, imagePath: opts.imagePath ?? "", workPath: opts.workPath ?? "" })
    : undefined;

  const { process: state } = await tasks.get({ containerId: id }, leased);
  const wasPaused = state?.status === taskTypes.Status.PAUSED;
  if (!wasPaused) await tasks.pause({ containerId: id }, leased);
  const manifests: IndexEntry[] = [];
  const annotations: Record<string, string> = {};
  try {
    const res = await tasks.checkpoint({ containerId: id, parentCheckpoint: "", ...(options ? { options } : {}) }, { ...leased, timeoutMs: 0 });
    const platform = { architecture: hostPlatform().architecture, os: hostPlatform().os };
    for (const d of res.descriptors) {
      manifests.push({ mediaType: d.mediaType, digest: d.digest, size: Number(d.size), ...(Object.keys(d.annotations).length ? { annotations: d.annotations } : {}), platform });
    }
    if (opts.imagePath && options) return "";
    if (container.image) {
      const { image } = await service(imagesApi.Images).get({ name: container.image }, leased);
      if (image?.target) manifests.push({ mediaType: image.target.mediaType, digest: image.target.digest, size: Number(image.target.size) });
      annotations["image.name"] = container.image;
    }
    if (container.snapshotKey) manifests.push({ ...(await diffWritableSnapshot(service, container.snapshotter, container.snapshotKey, id, leased)), platform });
  } finally {
    if (!wasPaused) await tasks.resume({ containerId: id }, opts).catch(() => undefined);
  }
  const labels: Record<string, string> = {};
  manifests.forEach((m, i) => (labels[`containerd.io/gc.ref.content.${i}`] = m.digest));
  const index = { schemaVersion: 2, manifests, annotations };
  const desc = await writeContentBlob(service(contentApi.Content), id, Buffer.from(JSON.stringify(index)), labels, leased);
  await service(imagesApi.Images).create(
    { image: { name, labels: { [CHECKPOINT_LABEL]: "true" }, target: { mediaType: "application/vnd.oci.image.index.v1+json", digest: desc.digest, size: BigInt(desc.size) } } },
    leased,
  );
  return name;
}

/** containerd's rootfs.CreateDiff: the writable snapshot against a view of its parent, through the diff service. */
async function diffWritableSnapshot(service: ServiceFactory, snapshotter: string, key: string, id: string, opts: CallOptions): Promise<IndexEntry> {
  const snapshots = service(snapshotsApi.Snapshots);
  const { info } = await snapshots.stat({ snapshotter, key }, opts);
  const viewKey = `${info?.parent ?? ""}-parent-view-${randomBytes(6).toString("hex")}`;
  const lower = await snapshots.view({ snapshotter, key: viewKey, parent: info?.parent ?? "" }, opts);
  try {
    const upper = await snapshots.mounts({ snapshotter, key }, opts);
    const { diff } = await service(diffApi.Diff).diff({ left: lower.mounts, right: upper.mounts, mediaType: "", ref: `checkpoint-rw-${id}`, labels: {} }, { ...opts, timeoutMs: 0 });
    if (!diff) throw invalidArgument(`diff of ${key} returned no descriptor`);
    return { mediaType: diff.mediaType, digest: diff.digest, size: Number(diff.size) };
  } finally {
    await snapshots.remove({ snapshotter, key: viewKey }, opts).catch(() => undefined);
  }
}

/** Go's "01-02-2006-15:04:05" in local time, as ctr names checkpoints. */
function checkpointDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getMonth() + 1)}-${p(d.getDate())}-${d.getFullYear()}-${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
