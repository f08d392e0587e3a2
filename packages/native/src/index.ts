/**
 * @berth/native: the Linux syscalls Berth needs and Node lacks, as synchronous functions (each
 * is one fast syscall). Paths are strings or Buffers; failures throw errors shaped like Node's
 * fs errors (code, errno, syscall, path).
 */
export type { RawPath } from "./binding.js";
export type { SystemError } from "./system-error.js";
export { mknod, mkfifo, lutimesNs } from "./special-files.js";
export { lsetxattr, lgetxattr, llistxattr, lremovexattr } from "./xattrs.js";
export {
  mount,
  umount2,
  MNT_FORCE,
  MNT_DETACH,
  UMOUNT_NOFOLLOW,
  MS_RDONLY,
  MS_NOSUID,
  MS_NODEV,
  MS_NOEXEC,
  MS_SYNCHRONOUS,
  MS_REMOUNT,
  MS_MANDLOCK,
  MS_DIRSYNC,
  MS_NOATIME,
  MS_NODIRATIME,
  MS_BIND,
  MS_MOVE,
  MS_REC,
  MS_SILENT,
  MS_PRIVATE,
  MS_SLAVE,
  MS_SHARED,
  MS_UNBINDABLE,
  MS_RELATIME,
  MS_STRICTATIME,
  PAGE_SIZE,
} from "./mount.js";
export { setChildSubreaper, waitAny, waitForExit, getpgid, spawnProcess, describeExit } from "./processes.js";
export type { ReapedChild, SpawnOptions } from "./processes.js";
export { runProgram } from "./run-program.js";
export { readPipe, writePipe } from "./pipe-streams.js";
export type { PipeReader } from "./pipe-streams.js";
export type { ProgramResult, RunProgramOptions } from "./run-program.js";
export { pipe, eventfd, setCloseOnExec, setCloseOnExecForPaths, watchReadable } from "./descriptors.js";
export type { FdWatch } from "./descriptors.js";
export { unixListen, receiveFd } from "./sockets.js";
export { setWindowSize } from "./terminal.js";
export { GzipInflater, gzipInflateBackends } from "./gzip-inflater.js";
export { createFiles } from "./file-batch.js";
export { dropWrittenPages } from "./page-cache.js";
export { diskUsage } from "./disk-usage.js";
export type { TreeUsage } from "./disk-usage.js";
export type { NewFile } from "./file-batch.js";
export type { InflateBackend, InflateStep } from "./gzip-inflater.js";
