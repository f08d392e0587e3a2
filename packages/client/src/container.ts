import { containersApi, snapshotsApi, tasksApi } from "@berth/api";
import { failedPrecondition, isNotFound, type Mount } from "@berth/core";
import { withMounts } from "@berth/mount";
import { applySpecOpts, withAdditionalGids, withEnv, withUser, type Process as ProcessSpec, type Spec } from "@berth/oci";
import { readonlyMounts } from "./readonly-mounts.js";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { createFifoIo, NULL_IO, type ProcessStreams } from "./process-io.js";
import type { CallOptions, ServiceFactory } from "./service-client.js";
import { unpackSpec } from "./spec-any.js";
import { taskHandle, type TaskHandle } from "./task.js";

export interface AnyMessage {
  readonly typeUrl: string;
  readonly value: Uint8Array;
}

/** A container record as the containers service keeps it, its spec decoded. */
export interface ContainerRecord {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly image: string;
  readonly runtime: { readonly name: string; readonly options: AnyMessage | undefined };
  readonly spec: Spec | undefined;
  readonly snapshotter: string;
  readonly snapshotKey: string;
  readonly createdAt: Date | undefined;
  readonly updatedAt: Date | undefined;
  readonly extensions: Readonly<Record<string, AnyMessage>>;
  readonly sandbox: string;
}

export interface NewTaskOptions extends CallOptions {
  /** Options for the shim (an Any); the daemon otherwise uses the container's runtime options. */
  readonly options?: AnyMessage | undefined;
  /** A checkpoint to restore from (an image index descriptor in content). */
  readonly checkpoint?: { readonly mediaType: string; readonly digest: string; readonly size: number } | undefined;
}

export interface ExecSpecOptions extends CallOptions {
  readonly args: readonly string[];
  readonly tty?: boolean | undefined;
  readonly cwd?: string | undefined;
  readonly env?: readonly string[] | undefined;
  readonly user?: string | undefined;
}

/** A container: its record, its task, its removal. containerd's client Container. */
export interface ContainerHandle {
  readonly id: string;
  info(opts?: CallOptions): Promise<ContainerRecord>;
  spec(opts?: CallOptions): Promise<Spec>;
  /**
   * Creates the container's task with its rootfs from the container's snapshot, IO through
   * FIFOs copied to `streams` ("null": no IO at all).
   */
  newTask(streams: ProcessStreams | "null", opts?: NewTaskOptions): Promise<TaskHandle>;
  /**
   * A process spec for `exec`, as ctr builds it: the container's own process with other
   * arguments, terminal, cwd, environment, and a user looked up in its rootfs (mounted read-only).
   */
  execSpec(opts: ExecSpecOptions): Promise<ProcessSpec>;
  /** The container's existing task, without IO. NotFound when it has none. */
  task(opts?: CallOptions): Promise<TaskHandle>;
  /** Removes the container (not while it has a task); `snapshotCleanup` removes its snapshot first. */
  delete(opts?: { snapshotCleanup?: boolean } & CallOptions): Promise<void>;
}

export function toContainerRecord(c: containersApi.Container): ContainerRecord {
  const any = (a: { typeUrl: string; value: Uint8Array } | undefined): AnyMessage | undefined => (a ? { typeUrl: a.typeUrl, value: a.value } : undefined);
  const extensions: Record<string, AnyMessage> = {};
  for (const [k, v] of Object.entries(c.extensions)) extensions[k] = { typeUrl: v.typeUrl, value: v.value };
  return {
    id: c.id,
    labels: c.labels,
    image: c.image,
    runtime: { name: c.runtime?.name ?? "", options: any(c.runtime?.options) },
    spec: c.spec && c.spec.value.byteLength > 0 ? unpackSpec(c.spec, `container ${c.id}`) : undefined,
    snapshotter: c.snapshotter,
    snapshotKey: c.snapshotKey,
    createdAt: c.createdAt ? timestampDate(c.createdAt) : undefined,
    updatedAt: c.updatedAt ? timestampDate(c.updatedAt) : undefined,
    extensions,
    sandbox: c.sandbox,
  };
}

/** A handle on container `id` (which is looked up only when used). */
export function containerHandle(service: ServiceFactory, id: string): ContainerHandle {
  const containers = service(containersApi.Containers);
  const snapshots = service(snapshotsApi.Snapshots);
  const tasks = service(tasksApi.Tasks);
  const info = async (opts?: CallOptions) => {
    const { container } = await containers.get({ id }, opts);
    if (!container) throw failedPrecondition(`container ${id}: empty answer`);
    return toContainerRecord(container);
  };
  return {
    id,
    info,
    async spec(opts) {
      const record = await info(opts);
      if (!record.spec) throw failedPrecondition(`container ${id} has no runtime spec`);
      return record.spec;
    },
    async newTask(streams, opts = {}) {
      const record = await info(opts);
      let rootfs: Mount[] = [];
      if (record.snapshotKey) {
        if (!record.snapshotter) throw failedPrecondition(`container ${id} has a snapshot key but no snapshotter`);
        const res = await snapshots.mounts({ snapshotter: record.snapshotter, key: record.snapshotKey }, opts);
        rootfs = res.mounts.map((m) => ({ type: m.type, source: m.source, target: m.target, options: m.options }));
      }
      const io = streams === "null" ? NULL_IO : await createFifoIo(id, streams);
      let pid: number;
      try {
        const res = await tasks.create(
          {
            containerId: id,
            rootfs: rootfs.map((m) => ({ type: m.type, source: m.source, target: m.target ?? "", options: [...m.options] })),
            stdin: io.config.stdin,
            stdout: io.config.stdout,
            stderr: io.config.stderr,
            terminal: io.config.terminal,
            ...(opts.options ? { options: opts.options } : {}),
            ...(opts.checkpoint ? { checkpoint: { ...opts.checkpoint, size: BigInt(opts.checkpoint.size) } } : {}),
          },
          opts,
        );
        pid = res.pid;
      } catch (err) {
        await io.close();
        throw err;
      }
      const task = taskHandle(service, id, pid, io);
      io.attached(() => void task.closeStdin().catch(() => {}));
      return task;
    },
    async execSpec(opts) {
      const record = await info(opts);
      if (!record.spec) throw failedPrecondition(`container ${id} has no runtime spec`);
      const spec = record.spec;
      if (opts.env?.length) await applySpecOpts(spec, { namespace: "", id }, [withEnv(opts.env)]);
      if (opts.user) {
        const user = opts.user;
        if (!record.snapshotKey || !record.snapshotter) throw failedPrecondition(`container ${id} has no snapshot to look user ${user} up in`);
        const res = await snapshots.mounts({ snapshotter: record.snapshotter, key: record.snapshotKey }, opts);
        const mounts: Mount[] = res.mounts.map((m) => ({ type: m.type, source: m.source, target: m.target, options: m.options }));
        await withMounts(readonlyMounts(mounts), (rootfs) => applySpecOpts(spec, { namespace: "", id, rootfs }, [withUser(user), withAdditionalGids(user)]), {
          signal: opts.signal,
        });
      }
      if (!spec.process) throw failedPrecondition(`container ${id}: its spec has no process to base an exec on`);
      const process: ProcessSpec = { ...spec.process, args: [...opts.args], terminal: opts.tty ?? false };
      if (opts.cwd) process.cwd = opts.cwd;
      return process;
    },
    async task(opts) {
      const { process: p } = await tasks.get({ containerId: id }, opts);
      return taskHandle(service, id, p?.pid ?? 0, undefined);
    },
    async delete(opts = {}) {
      const record = await info(opts);
      const hasTask = await tasks.get({ containerId: id }, opts).then(
        () => true,
        (err: unknown) => {
          if (isNotFound(err)) return false;
          throw err;
        },
      );
      if (hasTask) throw failedPrecondition(`cannot delete container ${id}: it has a task; delete the task first`);
      if (opts.snapshotCleanup && record.snapshotKey) {
        if (!record.snapshotter) throw failedPrecondition(`container ${id} has a snapshot key but no snapshotter`);
        try {
          await snapshots.remove({ snapshotter: record.snapshotter, key: record.snapshotKey }, opts);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      await containers.delete({ id }, opts);
    },
  };
}
