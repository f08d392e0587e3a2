import { createRequire } from "node:module";

/** A path as the kernel sees it: a string (UTF-8) or raw bytes, for names that are not UTF-8. */
export type RawPath = string | Buffer;

/** An opaque libuv poll handle. */
export type NativeWatch = { readonly __brand: "NativeWatch" };

/** An opaque zlib inflate state (gzip_inflater.c). */
export type NativeInflater = { readonly __brand: "NativeInflater" };

/** What the C addon exports; index.ts wraps each call to give Node-style errors. */
export interface NativeBinding {
  mknod(path: RawPath, mode: number, major: number, minor: number): void;
  mkfifo(path: RawPath, mode: number): void;
  lsetxattr(path: RawPath, name: string, value: Buffer): void;
  lgetxattr(path: RawPath, name: string): Buffer | undefined;
  llistxattr(path: RawPath): string[];
  lremovexattr(path: RawPath, name: string): void;
  lutimesNs(path: RawPath, atimeSec: number, atimeNsec: number, mtimeSec: number, mtimeNsec: number): void;
  mount(source: RawPath, target: RawPath, fstype: string, flags: number, data: RawPath, cwd?: RawPath): void;
  umount2(target: RawPath, flags: number): void;
  setChildSubreaper(): void;
  waitAny(): { pid: number; status: number; exited: boolean; exitCode: number; signal: number | undefined } | undefined;
  getpgid(pid: number): number;
  pidfdOpen(pid: number): number;
  waitPidfd(fd: number): { pid: number; status: number; exited: boolean; exitCode: number; signal: number | undefined } | undefined;
  spawnProcess(file: string, argv: readonly string[], envp: readonly string[], fds: readonly number[], cwd: string | undefined, setsid: boolean): number;
  pipe(): [number, number];
  unixListen(path: RawPath): number;
  receiveFd(listenFd: number): number | undefined;
  setWindowSize(fd: number, rows: number, cols: number): void;
  eventfd(): number;
  setCloseOnExec(fd: number): void;
  watchReadable(fd: number, callback: (status: number) => void): NativeWatch;
  unwatch(watch: NativeWatch): void;
  gzipInflaterBackends(): InflateBackend[];
  gzipInflaterNew(sha256: boolean, backend: InflateBackend): NativeInflater;
  gzipInflaterStep(inflater: NativeInflater, input: Uint8Array, output: Uint8Array): Promise<InflateStep>;
  gzipInflaterClose(inflater: NativeInflater): void;
  gzipInflaterSha256(inflater: NativeInflater): Buffer;
  createFiles(paths: Uint8Array, meta: Float64Array, data: Uint8Array, results: Int32Array): Promise<void>;
  dropWrittenPages(fd: number, offset: number, length: number): Promise<number>;
  diskUsage(root: Buffer): Promise<{ errno: number; path?: Buffer; size: number; inodes: number }>;
  readonly constants: Readonly<Record<string, number>>;
}

/** Who inflates: Intel's ISA-L (igzip, when libisal is on the host) or zlib (always). */
export type InflateBackend = "isa-l" | "zlib";

/** What one inflate step did. */
export interface InflateStep {
  /** Input bytes used (all of them unless the output filled up). */
  readonly consumed: number;
  /** Output bytes written, from the start of the output array. */
  readonly produced: number;
  /** The last gzip member's trailer was read (checked): the stream may end here. */
  readonly memberEnded: boolean;
}

// The same relative path works from src/ (tests run the TypeScript) and from dist/.
export const binding = createRequire(import.meta.url)("../dist/berth_native.node") as NativeBinding;
