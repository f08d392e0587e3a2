import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The runc options (containerd.runc.v1.Options) the shim acts on. */
export interface RuncOptions {
  readonly noPivotRoot: boolean;
  readonly noNewKeyring: boolean;
  readonly shimCgroup: string;
  readonly ioUid: number;
  readonly ioGid: number;
  /** The OCI runtime binary; runc when empty (crun works the same way). */
  readonly binaryName: string;
  /** The runtime's root; /run/containerd/runc when empty (the namespace is appended). */
  readonly root: string;
  readonly systemdCgroup: boolean;
  readonly criuImagePath: string;
  readonly criuWorkPath: string;
}

export const DEFAULT_RUNC_ROOT = "/run/containerd/runc";

export const emptyRuncOptions: RuncOptions = {
  noPivotRoot: false,
  noNewKeyring: false,
  shimCgroup: "",
  ioUid: 0,
  ioGid: 0,
  binaryName: "",
  root: "",
  systemdCgroup: false,
  criuImagePath: "",
  criuWorkPath: "",
};

const OPTIONS_FILE = "options.json";

// containerd's runc shim keeps the options beside the bundle (options.json, with the proto's
// JSON names) so that `delete` after a crash drives the same runtime with the same root.
export async function writeRuncOptions(bundle: string, options: RuncOptions): Promise<void> {
  const json: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== "" && value !== 0 && value !== false) json[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value;
  }
  await writeFile(join(bundle, OPTIONS_FILE), JSON.stringify(json), { mode: 0o600 });
  await writeFile(join(bundle, "runtime"), options.binaryName, { mode: 0o600 });
}

export async function readRuncOptions(bundle: string): Promise<RuncOptions> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(join(bundle, OPTIONS_FILE), "utf8")) as Record<string, unknown>;
  } catch {
    return emptyRuncOptions;
  }
  const pick = <T>(key: string, fallback: T): T => {
    const value = json[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
    return typeof value === typeof fallback ? (value as T) : fallback;
  };
  const out: Record<string, unknown> = {};
  for (const [key, fallback] of Object.entries(emptyRuncOptions)) out[key] = pick(key, fallback);
  return out as unknown as RuncOptions;
}

/** The runtime binary and root for a namespace, as the options choose them. */
export function runtimeOf(options: RuncOptions, namespace: string): { binary: string; root: string } {
  return { binary: options.binaryName || "runc", root: join(options.root || DEFAULT_RUNC_ROOT, namespace) };
}
