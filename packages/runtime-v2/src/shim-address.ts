import { renameSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { shimBootstrap } from "@berth/api";
import { invalidArgument, notImplemented } from "@berth/core";

/** How to reach a shim: what its `start` printed, normalised (containerd's BootstrapResult). */
export interface ShimAddress {
  /** 2: containerd.task.v2.Task; 3: containerd.task.v3.Task (containerd 2's shims). */
  readonly version: number;
  /** "ttrpc" (or "grpc", which Berth cannot speak to yet). */
  readonly protocol: string;
  /** unix:///path or a plain socket path. */
  readonly address: string;
}

/** The newest task API a shim may announce. */
export const MAX_SHIM_VERSION = 3;

/**
 * Parses a shim's `start` output. Shims print a plain address (containerd 1.x shims:
 * `unix:///run/containerd/s/<hash>`), a JSON object `{"version":3,"address":…,"protocol":"ttrpc"}`
 * (containerd 2), or a binary BootstrapResult (containerd 2.3's bootstrap protocol).
 */
export function parseStartOutput(output: Uint8Array): ShimAddress {
  const text = Buffer.from(output).toString("utf8").trim();
  if (text === "") throw invalidArgument("shim start printed no address");
  if (text.startsWith("{")) {
    let json: { version?: unknown; address?: unknown; protocol?: unknown };
    try {
      json = JSON.parse(text) as typeof json;
    } catch (err) {
      throw invalidArgument(`shim start printed malformed JSON: ${text}`, err);
    }
    // A version below 2 is how containerd reads legacy output: the whole text is a ttrpc address.
    if (typeof json.version !== "number" || json.version < 2 || typeof json.address !== "string") return checked({ version: 2, protocol: "ttrpc", address: text });
    return checked({ version: json.version, protocol: typeof json.protocol === "string" && json.protocol !== "" ? json.protocol : "ttrpc", address: json.address });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(text) || text.startsWith("/")) return checked({ version: 2, protocol: "ttrpc", address: text });
  let result: shimBootstrap.BootstrapResult;
  try {
    result = fromBinary(shimBootstrap.BootstrapResultSchema, output);
  } catch (err) {
    throw invalidArgument(`shim start printed something that is no address: ${JSON.stringify(text.slice(0, 200))}`, err);
  }
  return checked({ version: result.version, protocol: result.protocol || "ttrpc", address: result.address });
}

function checked(address: ShimAddress): ShimAddress {
  if (address.version > MAX_SHIM_VERSION) throw notImplemented(`unsupported shim version (${address.version})`);
  if (address.address === "") throw invalidArgument("shim start printed an empty address");
  return address;
}

const BOOTSTRAP_FILE = "bootstrap.json";
const LEGACY_ADDRESS_FILE = "address";

/** Saves how to reach the shim in its bundle, atomically, in containerd 2's bootstrap.json form. */
export async function writeShimAddress(bundlePath: string, address: ShimAddress): Promise<void> {
  const path = join(bundlePath, BOOTSTRAP_FILE);
  const tmp = join(bundlePath, `.${BOOTSTRAP_FILE}`);
  // Synchronous, as createBundle's writes are: a hundred bytes on the task-create path.
  writeFileSync(tmp, JSON.stringify({ version: address.version, address: address.address, protocol: address.protocol }), { mode: 0o644 });
  renameSync(tmp, path);
}

/**
 * Reads how to reach the shim of a bundle: bootstrap.json, else the `address` file that
 * containerd 1.x shims write in their bundle.
 */
export async function readShimAddress(bundlePath: string): Promise<ShimAddress> {
  const saved = await readFile(join(bundlePath, BOOTSTRAP_FILE)).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  if (saved) return parseStartOutput(saved);
  const legacy = await readFile(join(bundlePath, LEGACY_ADDRESS_FILE));
  return parseStartOutput(legacy);
}
