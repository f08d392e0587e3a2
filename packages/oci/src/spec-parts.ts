import type { Linux, LinuxCapabilities, LinuxCpu, LinuxMemory, LinuxResources, Process, Root, Spec } from "./runtime-spec.js";

// Options may meet a spec that lacks a section (one read from a file, or built by hand): these
// create the section they are about to change, the way containerd's setProcess/setLinux do.

export function processOf(spec: Spec): Process {
  spec.process ??= { user: { uid: 0, gid: 0 }, cwd: "" };
  return spec.process;
}

export function rootOf(spec: Spec): Root {
  spec.root ??= { path: "" };
  return spec.root;
}

export function linuxOf(spec: Spec): Linux {
  spec.linux ??= {};
  return spec.linux;
}

export function resourcesOf(spec: Spec): LinuxResources {
  const linux = linuxOf(spec);
  linux.resources ??= {};
  return linux.resources;
}

export function cpuOf(spec: Spec): LinuxCpu {
  const resources = resourcesOf(spec);
  resources.cpu ??= {};
  return resources.cpu;
}

export function memoryOf(spec: Spec): LinuxMemory {
  const resources = resourcesOf(spec);
  resources.memory ??= {};
  return resources.memory;
}

export function capabilitiesOf(spec: Spec): LinuxCapabilities {
  const process = processOf(spec);
  process.capabilities ??= {};
  return process.capabilities;
}
