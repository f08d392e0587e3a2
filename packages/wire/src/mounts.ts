// containerd.types.Mount <-> core's Mount. containerd's empty target means "no target".
import type { types } from "@berth/api";
import type { Mount } from "@berth/core";
import type { MessageInitShape } from "@bufbuild/protobuf";

export type MountOut = MessageInitShape<typeof types.MountSchema>;

export function mountToWire(mount: Mount): MountOut {
  return { type: mount.type, source: mount.source, target: mount.target ?? "", options: [...mount.options] };
}

export const mountsToWire = (mounts: readonly Mount[]): MountOut[] => mounts.map(mountToWire);

export function mountFromWire(mount: types.Mount): Mount {
  const out = { type: mount.type, source: mount.source, options: [...mount.options] };
  return mount.target === "" ? out : { ...out, target: mount.target };
}

export const mountsFromWire = (mounts: readonly types.Mount[]): Mount[] => mounts.map(mountFromWire);
