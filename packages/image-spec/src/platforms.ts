import { invalidArgument } from "@berth/core";

/** An OCI platform, normalised: arm64's variant is always "v8", amd64 has none. */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string | undefined;
}

const KNOWN_OS = new Set(["linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris", "illumos", "aix", "plan9", "android", "ios", "js", "wasip1"]);

/** containerd's normalisation, so "aarch64", "arm64" and "arm64/v8" compare equal. */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let arch = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() ?? "";
  switch (arch) {
    case "i386":
      arch = "386";
      variant = "";
      break;
    case "x86_64":
    case "x86-64":
    case "amd64":
      arch = "amd64";
      if (variant === "v1") variant = "";
      break;
    case "aarch64":
    case "arm64":
      arch = "arm64";
      if (variant === "8" || variant === "v8" || variant === "") variant = "v8";
      break;
    case "armhf":
      arch = "arm";
      variant = "v7";
      break;
    case "armel":
      arch = "arm";
      variant = "v6";
      break;
    case "arm":
      if (variant === "" || variant === "7") variant = "v7";
      else if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
      break;
  }
  return variant === "" ? { os, architecture: arch } : { os, architecture: arch, variant };
}

const NODE_ARCH: Readonly<Record<string, string>> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64", loong64: "loong64" };

/** The platform this process runs on. */
export function hostPlatform(): Platform {
  return normalizePlatform({ os: process.platform, architecture: NODE_ARCH[process.arch] ?? process.arch });
}

/** Parses "os[/arch[/variant]]" or a bare "arch", as `--platform` takes it. */
export function parsePlatform(spec: string): Platform {
  const parts = spec.split("/");
  if (parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9_.-]+$/.test(p))) {
    throw invalidArgument(`invalid platform ${JSON.stringify(spec)}: want os[/arch[/variant]]`);
  }
  const host = hostPlatform();
  const [first = "", arch, variant] = parts;
  if (parts.length === 1) {
    return KNOWN_OS.has(first.toLowerCase())
      ? normalizePlatform({ os: first, architecture: host.architecture, variant: host.variant })
      : normalizePlatform({ os: host.os, architecture: first });
  }
  return normalizePlatform({ os: first, architecture: arch ?? "", variant });
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((s) => s !== undefined && s !== "").join("/");
}

/**
 * Whether an image for `candidate` runs on `wanted`: same OS and architecture, and for 32-bit
 * arm an equal or older variant (a v7 host runs v6 and v5 images).
 */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  const w = normalizePlatform(wanted);
  const c = normalizePlatform(candidate);
  if (w.os !== c.os || w.architecture !== c.architecture) return false;
  if (w.architecture === "arm") return (c.variant ?? "v7") <= (w.variant ?? "v7");
  return (w.variant ?? "") === (c.variant ?? "");
}
