import { UsageError } from "../usage-error.js";

/** "os/arch[/variant]" as --platform takes it. */
export function parsePlatformFlag(spec: string): { os: string; architecture: string; variant?: string } {
  const [os = "", architecture = "", variant] = spec.split("/");
  if (os === "" || architecture === "") throw new UsageError(`--platform ${spec}: want os/arch[/variant]`);
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/** --user USER:PASSWORD (this client does not prompt). */
export function parseUser(user: string): { username: string; password: string } {
  const colon = user.indexOf(":");
  if (colon < 0) throw new UsageError("--user: give USER:PASSWORD (no prompt in this client)");
  return { username: user.slice(0, colon), password: user.slice(colon + 1) };
}

/** Sizes as ctr prints them ("%02.1f" of the binary unit): "1.0 MiB", "467.0 B". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1).padStart(2, "0")} ${units[u]}`;
}
