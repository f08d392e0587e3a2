import { mkdir, rm } from "node:fs/promises";
import { dataLoss, invalidArgument } from "@berth/core";
import { quoteShort } from "./digest.js";
import { readTextIfExists, writeFileAtomic } from "./fs-util.js";
import type { Layout } from "./layout.js";
import { KeyedMutex } from "./serial.js";

/** containerd's limit: a label's key and value together, in bytes. */
export const MAX_LABEL_BYTES = 4096;

export type Labels = Readonly<Record<string, string>>;

/** InvalidArgument for a label whose key and value exceed 4096 bytes, as containerd's labels.Validate. */
export function validateLabels(labels: Labels | undefined): void {
  if (labels === undefined || labels === null) return;
  if (typeof labels !== "object") throw invalidArgument("labels must be a map of strings");
  for (const [key, value] of Object.entries(labels)) {
    if (typeof value !== "string") throw invalidArgument(`label ${quoteShort(key)} must be a string`);
    const size = Buffer.byteLength(key, "utf8") + Buffer.byteLength(value, "utf8");
    if (size > MAX_LABEL_BYTES) {
      throw invalidArgument(
        `label key and value length (${size} bytes) greater than maximum size (${MAX_LABEL_BYTES} bytes), key: ${key.slice(0, 64)}`,
      );
    }
  }
}

/** A copy without empty values: an empty value removes a label, as in containerd's label stores. */
export function withoutEmpty(labels: Readonly<Record<string, string | undefined>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels ?? {})) if (value !== undefined && value !== "") out[key] = value;
  return out;
}

export interface LabelRecord {
  readonly labels: Labels;
  /** When the labels last changed; absent when they never did (then a blob's updatedAt is its createdAt). */
  readonly updatedAt: Date | undefined;
}

const EMPTY: LabelRecord = Object.freeze({ labels: Object.freeze({}), updatedAt: undefined });
const mutex = new KeyedMutex();

/**
 * Labels of committed blobs, one small JSON file per blob that has any, replaced atomically.
 * containerd's local store keeps none unless handed a label store; under the metadata store
 * labels live in metadata instead, and this store simply has no files here.
 */
export class LabelStore {
  constructor(readonly layout: Layout) {}

  async get(hex: string): Promise<LabelRecord> {
    const path = this.layout.labelsPath(hex);
    const text = await readTextIfExists(path);
    if (text === undefined) return EMPTY;
    try {
      const parsed = JSON.parse(text) as { labels?: Record<string, string>; updatedAt?: string };
      const updatedAt = typeof parsed.updatedAt === "string" ? new Date(parsed.updatedAt) : undefined;
      const labels = typeof parsed.labels === "object" && parsed.labels !== null ? { ...parsed.labels } : {};
      return { labels, updatedAt: updatedAt && !Number.isNaN(+updatedAt) ? updatedAt : undefined };
    } catch (err) {
      throw dataLoss(`labels of sha256:${hex} are unreadable (${path})`, err);
    }
  }

  /** Replaces every label; an empty set removes the file. */
  async set(hex: string, labels: Labels, updatedAt: Date | undefined): Promise<LabelRecord> {
    return mutex.run(this.layout.labelsPath(hex), () => this.#write(hex, withoutEmpty(labels), updatedAt));
  }

  /** Sets the given keys; a key mapped to "" or undefined is removed. */
  async patch(hex: string, changes: Readonly<Record<string, string | undefined>>, updatedAt: Date): Promise<LabelRecord> {
    return mutex.run(this.layout.labelsPath(hex), async () => {
      const next: Record<string, string> = { ...(await this.get(hex)).labels };
      for (const [key, value] of Object.entries(changes)) {
        if (value === undefined || value === "") delete next[key];
        else next[key] = value;
      }
      return this.#write(hex, next, updatedAt);
    });
  }

  async remove(hex: string): Promise<void> {
    await mutex.run(this.layout.labelsPath(hex), () => rm(this.layout.labelsPath(hex), { force: true }));
  }

  async #write(hex: string, labels: Record<string, string>, updatedAt: Date | undefined): Promise<LabelRecord> {
    const path = this.layout.labelsPath(hex);
    if (Object.keys(labels).length === 0 && updatedAt === undefined) {
      await rm(path, { force: true });
      return EMPTY;
    }
    await mkdir(this.layout.labelsDir, { recursive: true, mode: 0o755 });
    const record = { labels, ...(updatedAt ? { updatedAt: updatedAt.toISOString() } : {}) };
    // fsync before the rename: labels can be gc roots, so a crash must not leave an empty file.
    await writeFileAtomic(path, JSON.stringify(record), { sync: true });
    return { labels, updatedAt };
  }
}
