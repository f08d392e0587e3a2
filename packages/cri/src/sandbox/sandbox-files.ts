import { copyFile, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { hostname as osHostname } from "node:os";
import type { criApi } from "@berth/api";
import { failedPrecondition } from "@berth/core";
import { MNT_DETACH, MS_NODEV, MS_NOEXEC, MS_NOSUID, mount, umount2 } from "@berth/native";
import type { SandboxNamespaces } from "../runtime/sandbox-controller.js";
import { podFiles } from "./pod-sandbox.js";

/** containerd's size for a pod's /dev/shm: 64 MiB, as Docker's default. */
const SHM_SIZE_BYTES = 64 * 1024 * 1024;

/**
 * Writes what the pod's containers bind into place: /etc/hostname (the pod's hostname, or the
 * host's for a pod that names none), /etc/hosts (the host's), /etc/resolv.conf (from the
 * pod's DnsConfig, else the host's), and mounts a private tmpfs for /dev/shm unless the pod
 * shares the host's IPC namespace.
 */
export async function setupSandboxFiles(rootDir: string, config: criApi.PodSandboxConfig, namespaces: SandboxNamespaces): Promise<void> {
  const files = podFiles(rootDir, namespaces);
  const hostname = config.hostname !== "" ? config.hostname : osHostname();
  await writeFile(files.hostnamePath, `${hostname}\n`, { mode: 0o644 });
  await copyFile("/etc/hosts", files.hostsPath);
  if (config.dnsConfig !== undefined) await writeFile(files.resolvConfPath, resolvConf(config.dnsConfig), { mode: 0o644 });
  else await writeFile(files.resolvConfPath, await readFile("/etc/resolv.conf").catch(() => ""), { mode: 0o644 });
  if (namespaces.ipc === "node") {
    await stat("/dev/shm").catch((err: Error) => {
      throw failedPrecondition(`host /dev/shm is not available for a host-IPC pod: ${err.message}`);
    });
    return;
  }
  await mkdir(files.shmPath, { recursive: true, mode: 0o700 });
  mount("shm", files.shmPath, "tmpfs", MS_NOEXEC | MS_NOSUID | MS_NODEV, `mode=1777,size=${SHM_SIZE_BYTES}`);
}

/** Unmounts the pod's /dev/shm (idempotent). Containers must be gone, or they keep it alive. */
export function cleanupSandboxFiles(rootDir: string, namespaces: SandboxNamespaces): void {
  if (namespaces.ipc === "node") return;
  const { shmPath } = podFiles(rootDir, namespaces);
  for (let i = 0; i < 4; i++) {
    try {
      umount2(shmPath, MNT_DETACH);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EINVAL" || code === "ENOENT") return;
      throw err;
    }
  }
}

/** resolv.conf from the kubelet's DNS config: search line, nameservers, options. */
export function resolvConf(dns: criApi.DNSConfig): string {
  let out = "";
  if (dns.searches.length > 0) out += `search ${dns.searches.join(" ")}\n`;
  for (const server of dns.servers) out += `nameserver ${server}\n`;
  if (dns.options.length > 0) out += `options ${dns.options.join(" ")}\n`;
  return out;
}
