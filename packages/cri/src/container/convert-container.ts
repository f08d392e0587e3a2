import type { criApi } from "@berth/api";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CriImage } from "../image/cri-image.js";
import { CONTAINER_STATE_TO_CRI } from "./container-record.js";
import type { ContainerEntry } from "./container-store.js";
import { criResourcesToOci } from "./resource-opts.js";

type ContainerStatusInit = MessageInitShape<typeof criApi.ContainerStatusSchema>;
type ContainerInit = MessageInitShape<typeof criApi.ContainerSchema>;

/**
 * The image as status shows it, as containerd does: the image's first repo tag (else what the
 * request named) and its first repo digest (else its ID).
 */
export function imageNames(entry: ContainerEntry, image: CriImage | undefined): { image: string; imageRef: string } {
  const r = entry.record;
  return {
    image: image?.repoTags[0] ?? r.config.image?.image ?? r.imageName,
    imageRef: image?.repoDigests[0] ?? r.imageId,
  };
}

/** Why a container exited, when nothing more specific (OOMKilled, StartError) was recorded. */
function reasonOf(entry: ContainerEntry): string {
  const s = entry.record.status;
  if (s.reason !== "" || s.state !== "exited") return s.reason;
  return s.exitCode === 0 ? "Completed" : "Error";
}

export function toContainerStatus(entry: ContainerEntry, image: CriImage | undefined): ContainerStatusInit {
  const { record } = entry;
  const s = record.status;
  const names = imageNames(entry, image);
  const resources = record.config.linux?.resources;
  return {
    id: record.id,
    metadata: record.config.metadata,
    state: CONTAINER_STATE_TO_CRI[s.state],
    createdAt: s.createdAt,
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
    exitCode: s.exitCode,
    image: { image: names.image },
    imageRef: names.imageRef,
    reason: reasonOf(entry),
    message: s.message,
    labels: { ...record.config.labels },
    annotations: { ...record.config.annotations },
    mounts: record.config.mounts,
    logPath: record.logPath,
    ...(resources !== undefined ? { resources: { linux: resources } } : {}),
  };
}

export function toContainer(entry: ContainerEntry, image: CriImage | undefined): ContainerInit {
  const { record } = entry;
  const names = imageNames(entry, image);
  return {
    id: record.id,
    podSandboxId: record.sandboxId,
    metadata: record.config.metadata,
    image: { image: names.image },
    imageRef: names.imageRef,
    state: CONTAINER_STATE_TO_CRI[record.status.state],
    createdAt: record.status.createdAt,
    labels: { ...record.config.labels },
    annotations: { ...record.config.annotations },
  };
}

/** The verbose info ContainerStatus returns under "info": what containerd shows, as JSON. */
export function verboseInfo(entry: ContainerEntry, spec: unknown): Record<string, string> {
  const r = entry.record;
  return {
    info: JSON.stringify({
      sandboxID: r.sandboxId,
      pid: r.status.pid,
      removing: r.status.removing,
      snapshotKey: r.id,
      snapshotter: r.snapshotter,
      runtimeType: r.runtimeHandler,
      config: { metadata: r.config.metadata, image: r.config.image, command: r.config.command, args: r.config.args, logPath: r.config.logPath },
      runtimeSpec: spec,
      resources: r.config.linux?.resources ? criResourcesToOci(r.config.linux.resources) : undefined,
    }),
  };
}
