import { closeSync, constants, openSync, readSync, watch, writeFileSync, type FSWatcher } from "node:fs";
import { join } from "node:path";
import { eventfd, watchReadable, type FdWatch } from "@berth/native";
import type { Logger } from "@berth/core";
import { readKeyValues } from "./cgroup-files.js";
import type { ContainerCgroup } from "./cgroup-paths.js";

/** Watches containers' memory cgroups and reports each OOM kill (containerd's /tasks/oom). */
export interface OomWatcher {
  add(containerId: string, cgroup: ContainerCgroup): void;
  remove(containerId: string): void;
  close(): void;
}

export function createOomWatcher(onOom: (containerId: string) => void, log: Logger): OomWatcher {
  const watches = new Map<string, { close(): void }>();
  return {
    add(containerId, cgroup) {
      if (watches.has(containerId)) return;
      try {
        const w = cgroup.version === 1 ? watchV1(cgroup, () => onOom(containerId)) : watchV2(cgroup.dir, () => onOom(containerId));
        if (w) watches.set(containerId, w);
      } catch (err) {
        log.warn("cannot watch the container's memory cgroup for OOM kills", { id: containerId, error: err });
      }
    },
    remove(containerId) {
      watches.get(containerId)?.close();
      watches.delete(containerId);
    },
    close() {
      for (const w of watches.values()) w.close();
      watches.clear();
    },
  };
}

/**
 * cgroup v1: an eventfd registered in cgroup.event_control against memory.oom_control; the
 * kernel signals it on every OOM in the cgroup. Node cannot poll an eventfd, hence the native
 * watch on libuv's loop.
 */
function watchV1(cgroup: { dirs: ReadonlyMap<string, string> }, onOom: () => void): { close(): void } | undefined {
  const dir = cgroup.dirs.get("memory");
  if (dir === undefined) return undefined;
  const efd = eventfd();
  let control: number | undefined;
  let poll: FdWatch | undefined;
  try {
    control = openSync(join(dir, "memory.oom_control"), constants.O_RDONLY);
    writeFileSync(join(dir, "cgroup.event_control"), `${efd} ${control}`);
    const counter = Buffer.alloc(8);
    poll = watchReadable(efd, () => {
      try {
        readSync(efd, counter);
      } catch {
        return; // EAGAIN: another wake-up took it
      }
      // The kernel also signals when the cgroup is removed; a cgroup that is gone had no OOM.
      if (existsCgroup(dir)) onOom();
    });
  } catch (err) {
    poll?.close();
    if (control !== undefined) closeSync(control);
    closeSync(efd);
    throw err;
  }
  const held = control;
  return {
    close() {
      poll?.close();
      closeSync(held);
      closeSync(efd);
    },
  };
}

function existsCgroup(dir: string): boolean {
  try {
    closeSync(openSync(join(dir, "memory.oom_control"), constants.O_RDONLY));
    return true;
  } catch {
    return false;
  }
}

/** cgroup v2: memory.events changes (inotify) and its oom_kill count grows. */
function watchV2(dir: string, onOom: () => void): { close(): void } {
  const path = join(dir, "memory.events");
  let seen: bigint | undefined;
  let watcher: FSWatcher | undefined;
  const check = async () => {
    const kills = (await readKeyValues(path)).get("oom_kill") ?? 0n;
    if (seen !== undefined && kills > seen) onOom();
    seen = kills;
  };
  void check();
  watcher = watch(path, { persistent: false }, () => void check());
  watcher.on("error", () => watcher?.close());
  return { close: () => watcher?.close() };
}
