import { readFile } from "node:fs/promises";
import { internal } from "@berth/core";

/**
 * Every capability Linux defines (as of 5.9), indexed by its number: the bit positions of the
 * CapEff/CapBnd masks in /proc/<pid>/status.
 */
export const KNOWN_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
];

/** The names of the known capabilities whose bits are set in `mask` (unknown bits are ignored). */
export function capabilitiesFromMask(mask: bigint): string[] {
  return KNOWN_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/**
 * This process's effective capabilities. A privileged container gets these rather than every known
 * one: the runtime cannot grant what its caller lacks (this host's root has no CAP_SYS_RESOURCE).
 */
export async function currentCapabilities(signal?: AbortSignal): Promise<string[]> {
  const status = await readFile("/proc/self/status", { encoding: "utf8", signal });
  const line = status.split("\n").find((l) => l.startsWith("CapEff:"));
  const hex = line?.slice("CapEff:".length).trim();
  if (!hex || !/^[0-9a-f]+$/i.test(hex)) throw internal("no CapEff line in /proc/self/status");
  return capabilitiesFromMask(BigInt(`0x${hex}`));
}
