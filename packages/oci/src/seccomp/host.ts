import { arch, release } from "node:os";

/** What the default seccomp profile depends on besides the spec: the CPU and the kernel. */
export interface SeccompHost {
  /** Node's name for the CPU architecture (`process.arch`): x64, arm64, s390x, … */
  readonly arch: string;
  /** The kernel release (`uname -r`), e.g. "6.1.0-13-amd64". */
  readonly kernelRelease: string;
}

export function currentSeccompHost(): SeccompHost {
  return { arch: arch(), kernelRelease: release() };
}

/** The release's major.minor, or undefined when it does not start with one. */
export function kernelVersion(kernelRelease: string): { major: number; minor: number } | undefined {
  const m = /^(\d+)\.(\d+)/.exec(kernelRelease);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

export function kernelAtLeast(kernelRelease: string, major: number, minor: number): boolean {
  const v = kernelVersion(kernelRelease);
  return v !== undefined && (v.major > major || (v.major === major && v.minor >= minor));
}
