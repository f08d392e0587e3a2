import { realpath } from "node:fs/promises";
import { invalidArgument } from "@berth/core";
import { deviceFromPath, devicesAt } from "../devices.js";
import type { LinuxDeviceCgroup } from "../runtime-spec.js";
import { linuxOf, resourcesOf } from "../spec-parts.js";
import type { SpecOpt } from "../spec-opt.js";

const rwm = "rwm";

function requireAccess(access: string): void {
  if (!/^[rwm]{1,3}$/.test(access)) throw invalidArgument(`device access ${JSON.stringify(access)} must be made of r, w and m`);
}

/**
 * Allows the devices every Linux program expects (null, random, full, tty, zero, urandom, console,
 * pts, ptmx) in the device cgroup, after the default deny-all rule.
 */
export const withDefaultUnixDevices: SpecOpt = (spec) => {
  const char = (major: number, minor?: number): LinuxDeviceCgroup =>
    minor === undefined ? { allow: true, type: "c", major, access: rwm } : { allow: true, type: "c", major, minor, access: rwm };
  const resources = resourcesOf(spec);
  resources.devices = [
    ...(resources.devices ?? []),
    char(1, 3), // /dev/null
    char(1, 8), // /dev/random
    char(1, 7), // /dev/full
    char(5, 0), // /dev/tty
    char(1, 5), // /dev/zero
    char(1, 9), // /dev/urandom
    char(5, 1), // /dev/console
    char(136), // /dev/pts/*
    char(5, 2), // /dev/ptmx
  ];
};

/** Every device readable, writable and creatable (privileged containers). */
export const withAllDevicesAllowed: SpecOpt = (spec) => {
  resourcesOf(spec).devices = [{ allow: true, access: rwm }];
};

/** No device rules: the container inherits its parent cgroup's. */
export const withParentCgroupDevices: SpecOpt = (spec) => {
  delete resourcesOf(spec).devices;
};

/** Every device node of the host's /dev created in the container (privileged containers). */
export const withHostDevices: SpecOpt = async (spec) => {
  const devices = await devicesAt("/dev");
  const linux = linuxOf(spec);
  linux.devices = [...(linux.devices ?? []), ...devices];
};

/**
 * The devices at `devicePath` (one node, or a directory walked recursively) created in the
 * container, under `containerPath` if given, and allowed with `access` in the device cgroup.
 */
export function withDevices(devicePath: string, containerPath = "", access = rwm): SpecOpt {
  requireAccess(access);
  return async (spec) => {
    const devices = await devicesAt(devicePath, containerPath || undefined);
    const linux = linuxOf(spec);
    const resources = resourcesOf(spec);
    linux.devices = [...(linux.devices ?? []), ...devices];
    resources.devices = [
      ...(resources.devices ?? []),
      ...devices.map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access })),
    ];
  };
}

/** One device node, by its host path (a symlink such as /dev/disk/by-id/… is followed if asked). */
export function withLinuxDevice(path: string, access = rwm, opts: { followSymlinks?: boolean } = {}): SpecOpt {
  requireAccess(access);
  return async (spec) => {
    const resolved = opts.followSymlinks ? await realpath(path) : path;
    const device = await deviceFromPath(resolved);
    if (!device) throw invalidArgument(`${resolved} is not a device node`);
    const linux = linuxOf(spec);
    linux.devices = [...(linux.devices ?? []), device];
    const resources = resourcesOf(spec);
    resources.devices = [
      ...(resources.devices ?? []),
      { allow: true, type: device.type, major: device.major, minor: device.minor, access },
    ];
  };
}

/** The devices of `ctr run --privileged`: every device allowed, the host's /dev nodes created. */
export const withPrivilegedDevices: SpecOpt = async (spec, ctx) => {
  await withAllDevicesAllowed(spec, ctx);
  await withHostDevices(spec, ctx);
};
