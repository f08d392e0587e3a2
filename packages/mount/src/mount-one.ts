import type { Mount } from "@berth/core";
import { invalidArgument, notImplemented } from "@berth/core";
import {
  MNT_DETACH,
  MS_BIND,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_STRICTATIME,
  PAGE_SIZE,
  mount,
  umount2,
} from "@berth/native";
import { syscallFailure } from "./errors.js";
import { parseMountOptions } from "./mount-options.js";
import { shortenOverlayOptions } from "./overlay-options.js";

// The kernel ignores these on a new bind mount; they take a remount of the bind to apply.
const PER_MOUNT_FLAGS = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

// Room left in the page for the kernel's own additions, as containerd leaves it.
const OVERLAY_SHORTEN_MARGIN = 512;

interface PlannedCall {
  readonly data: string;
  readonly cwd: string | undefined;
}

function planData(m: Mount, data: readonly string[]): PlannedCall {
  const joined = data.join(",");
  if (m.type !== "overlay" || Buffer.byteLength(joined) < PAGE_SIZE - OVERLAY_SHORTEN_MARGIN) return { data: joined, cwd: undefined };
  const shortened = shortenOverlayOptions(data);
  if (shortened === undefined) return { data: joined, cwd: undefined };
  return { data: shortened.data.join(","), cwd: shortened.cwd };
}

/**
 * Mounts one containerd Mount at `target` (an absolute path), in as many mount(2) calls as its
 * options need: the mount, then a propagation change, then a remount for per-mount flags on a
 * bind. If a later call fails the earlier one is undone, so a failure leaves nothing mounted.
 */
export function mountOne(m: Mount, target: string): void {
  if (/^fuse3?\./.test(m.type)) throw notImplemented(`mount ${m.type} on ${target}: FUSE mounts need a helper binary, not supported`);
  const { flags: parsedFlags, propagation, data } = parseMountOptions(m.options);
  const flags = m.type === "bind" ? parsedFlags | MS_BIND : parsedFlags;
  const isBind = (flags & MS_BIND) !== 0;
  const isRemount = (flags & MS_REMOUNT) !== 0;
  const call = planData(m, data);
  if (Buffer.byteLength(call.data) >= PAGE_SIZE) {
    throw invalidArgument(
      `mount ${m.type} on ${target}: options are ${Buffer.byteLength(call.data)} bytes${call.cwd === undefined ? "" : ` even relative to ${call.cwd}`}; mount(2) takes fewer than ${PAGE_SIZE}`,
    );
  }
  const fstype = isBind ? "" : m.type;
  const what = `mount ${m.type}${m.source === m.type ? "" : ` ${m.source}`} on ${target}`;

  try {
    mount(m.source, target, fstype, flags, call.data, call.cwd);
  } catch (err) {
    throw syscallFailure(what, err);
  }
  try {
    if (propagation !== 0) mount("", target, "", propagation, "");
    if (isBind && !isRemount && (flags & PER_MOUNT_FLAGS) !== 0) {
      mount("", target, "", (flags & ~MS_REC) | MS_REMOUNT, "");
    }
  } catch (err) {
    if (!isRemount) {
      try {
        umount2(target, MNT_DETACH);
      } catch {
        // The original failure is the one worth reporting.
      }
    }
    throw syscallFailure(`${what} (applying ${m.options.join(",")})`, err);
  }
}
