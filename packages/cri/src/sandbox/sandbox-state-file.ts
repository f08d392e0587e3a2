import { readFile, rename, writeFile } from "node:fs/promises";

/**
 * The part of a pod that changes after its record is written: its network. Saved in the pod's
 * root dir (atomically, by rename) so that after a restart Stop knows whether the network is
 * still to be torn down and Status reports the IPs CNI gave.
 */
export interface SandboxNetworkState {
  readonly netnsPath: string;
  readonly ips: readonly string[];
  /** True once teardown succeeded: nothing of the network is left to release. */
  readonly released: boolean;
}

export async function saveNetworkState(file: string, state: SandboxNetworkState): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(state));
  await rename(tmp, file);
}

/** undefined when the file does not exist (a pod from before the network was set up). */
export async function loadNetworkState(file: string): Promise<SandboxNetworkState | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as SandboxNetworkState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
