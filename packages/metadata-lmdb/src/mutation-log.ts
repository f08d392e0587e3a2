import type { Key } from "./keys.js";

/**
 * What a deletion may have left in a backend that no record names any more: a blob (by
 * digest), backend ingests, or snapshots of a snapshotter.
 */
export type DirtyBackend = { readonly blob: string } | { readonly ingests: true } | { readonly snapshotter: string };

/**
 * The backend work a collection has to do. "all" means "look at everything": after a start,
 * when nothing is known of what a crash left, or after a sweep that did not finish.
 */
export interface DirtyBackends {
  /** Digests whose last owner may be gone, or "all" for a walk of the whole store. */
  readonly blobs: ReadonlySet<string> | "all";
  readonly ingests: boolean;
  readonly snapshotters: ReadonlySet<string> | "all";
}

/** Keys written while a collection marks: its write barrier (see gc-collector.ts). */
export interface WrittenKeys {
  readonly keys: readonly Key[];
  close(): void;
}

/**
 * What garbage collection needs to know about writes, kept beside the one write path
 * (MetaDb.update): containerd's dirty count (deletions since the last collection, which
 * schedule one), the backend work those deletions leave, listeners told after every commit,
 * and the keys written while a collection marks.
 */
export class MutationLog {
  #deletions = 0;
  #blobs: Set<string> | "all" = "all";
  #ingests = true;
  #snapshotters: Set<string> | "all" = "all";
  readonly #listeners = new Set<(dirty: boolean) => void>();
  readonly #recorders = new Set<Key[]>();

  onMutation(listener: (dirty: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** After a transaction committed, with the marks it made (markDirty). */
  committed(marks: readonly (DirtyBackend | undefined)[]): void {
    if (marks.length > 0) {
      this.#deletions++;
      for (const mark of marks) if (mark) this.mark(mark);
    }
    const dirty = this.#deletions > 0;
    for (const listener of this.#listeners) {
      try {
        listener(dirty);
      } catch {
        // A listener's failure is not the writer's: its transaction has committed.
      }
    }
  }

  /** True while some collection records written keys; the write path checks it before recording. */
  get recording(): boolean {
    return this.#recorders.size > 0;
  }

  written(key: Key): void {
    for (const keys of this.#recorders) keys.push(key);
  }

  /** Starts recording every key written from now on, until closed. */
  recordWrites(): WrittenKeys {
    const keys: Key[] = [];
    this.#recorders.add(keys);
    return { keys, close: () => this.#recorders.delete(keys) };
  }

  /** Taken by a collection when it takes its snapshot: deletions after that count towards the next one. */
  takeDeletions(): number {
    const n = this.#deletions;
    this.#deletions = 0;
    return n;
  }

  /** Gives back deletions taken by a collection that did not sweep. */
  restoreDeletions(n: number): void {
    this.#deletions += n;
  }

  /** Records backend work without counting a deletion (the collector's own sweep, or work it could not finish). */
  mark(mark: DirtyBackend): void {
    if ("blob" in mark) {
      if (this.#blobs !== "all") this.#blobs.add(mark.blob);
    } else if ("ingests" in mark) {
      this.#ingests = true;
    } else if (this.#snapshotters !== "all") {
      this.#snapshotters.add(mark.snapshotter);
    }
  }

  /** Taken by a collection's backend phase; whatever it could not finish goes back with `restore`. */
  takeBackends(): DirtyBackends {
    const taken: DirtyBackends = { blobs: this.#blobs, ingests: this.#ingests, snapshotters: this.#snapshotters };
    this.#blobs = new Set();
    this.#ingests = false;
    this.#snapshotters = new Set();
    return taken;
  }

  restore(backends: DirtyBackends): void {
    if (backends.blobs === "all") this.#blobs = "all";
    else for (const blob of backends.blobs) this.mark({ blob });
    if (backends.ingests) this.#ingests = true;
    if (backends.snapshotters === "all") this.#snapshotters = "all";
    else for (const snapshotter of backends.snapshotters) this.mark({ snapshotter });
  }
}
