import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { notFound } from "@berth/core";
import type { IdIndex } from "../state/id-index.js";
import type { ContainerIo } from "./container-io.js";
import type { ContainerRecord, ContainerStatusData } from "./container-record.js";

/** A container the CRI knows, with the IO it serves while its task runs. */
export interface ContainerEntry {
  readonly record: ContainerRecord;
  io: ContainerIo | undefined;
}

/**
 * The CRI's containers in memory, found by ID or unique prefix (through the shared IdIndex),
 * with each status mirrored to `<root>/containers/<id>/status.json` so a restarted daemon
 * knows when a container started and how it ended.
 */
export interface ContainerStore {
  add(entry: ContainerEntry): void;
  /** NotFound when no container matches. */
  get(idOrPrefix: string): ContainerEntry;
  find(id: string): ContainerEntry | undefined;
  list(): ContainerEntry[];
  delete(id: string): void;
  /** The directory where a container's own files (status) live. */
  dirOf(id: string): string;
  saveStatus(entry: ContainerEntry): Promise<void>;
  loadStatus(id: string): Promise<ContainerStatusData | undefined>;
  removeFiles(id: string): Promise<void>;
}

export function createContainerStore(ids: IdIndex, rootDir: string): ContainerStore {
  const entries = new Map<string, ContainerEntry>();
  const dirOf = (id: string) => join(rootDir, "containers", id);
  // Writes for one container are chained so an older status never lands after a newer one.
  const writes = new Map<string, Promise<void>>();
  return {
    add(entry) {
      ids.add(entry.record.id);
      entries.set(entry.record.id, entry);
    },
    get(idOrPrefix) {
      let id: string;
      try {
        id = ids.resolve(idOrPrefix);
      } catch (err) {
        throw notFound(`container "${idOrPrefix}" not found`, err);
      }
      const entry = entries.get(id);
      if (entry === undefined) throw notFound(`container "${idOrPrefix}" not found`);
      return entry;
    },
    find: (id) => entries.get(id),
    list: () => [...entries.values()],
    delete(id) {
      entries.delete(id);
      ids.delete(id);
    },
    dirOf,
    saveStatus(entry) {
      const id = entry.record.id;
      const snapshot = JSON.stringify(entry.record.status, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
      const previous = writes.get(id) ?? Promise.resolve();
      const next = previous.then(async () => {
        const dir = dirOf(id);
        await mkdir(dir, { recursive: true });
        const tmp = join(dir, "status.json.tmp");
        await writeFile(tmp, snapshot);
        await rename(tmp, join(dir, "status.json"));
      });
      const settled = next.catch(() => undefined);
      writes.set(id, settled);
      void settled.finally(() => {
        if (writes.get(id) === settled) writes.delete(id);
      });
      return next;
    },
    async loadStatus(id) {
      const text = await readFile(join(dirOf(id), "status.json"), "utf8").catch(() => undefined);
      if (text === undefined) return undefined;
      const raw = JSON.parse(text) as Record<string, unknown>;
      const big = (k: string) => BigInt(String(raw[k] ?? "0"));
      return {
        state: (raw["state"] as ContainerStatusData["state"]) ?? "unknown",
        pid: Number(raw["pid"] ?? 0),
        createdAt: big("createdAt"),
        startedAt: big("startedAt"),
        finishedAt: big("finishedAt"),
        exitCode: Number(raw["exitCode"] ?? 0),
        reason: String(raw["reason"] ?? ""),
        message: String(raw["message"] ?? ""),
        removing: false,
        oomKilled: raw["oomKilled"] === true,
      };
    },
    async removeFiles(id) {
      await (writes.get(id) ?? Promise.resolve());
      await rm(dirOf(id), { recursive: true, force: true });
    },
  };
}
