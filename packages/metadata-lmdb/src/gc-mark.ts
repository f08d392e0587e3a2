import { canceled } from "@berth/core";
import { breathe } from "./breathe.js";
import type { ReadSnapshot, ReadTx } from "./db.js";
import { isExpiredLease, isRoot, nodeId, nodeOfKey, recordKey, references, visitId, type GcNode } from "./gc-graph.js";
import { namespaceObjectsPrefix, namespacesPrefix, type Key } from "./keys.js";
import type { LeaseRecord, SnapshotRecord } from "./records.js";

/** How long marking may keep the event loop before it lets other work run. */
const SLICE_MS = 2;

/**
 * Splits long synchronous work into slices of a few milliseconds so that reads and writes
 * keep being served while a collection marks. Remembers the longest slice (the collection's
 * pause, as far as marking goes) and stops at the caller's signal between slices.
 */
export class Pacer {
  readonly #signal: AbortSignal | undefined;
  #sliceStart = performance.now();
  #ops = 0;
  longestMs = 0;

  constructor(signal: AbortSignal | undefined) {
    this.#signal = signal;
  }

  /** Call once per unit of work; yields to the event loop when the slice is used up. */
  async tick(): Promise<void> {
    if (++this.#ops % 64 !== 0) return;
    const elapsed = performance.now() - this.#sliceStart;
    if (elapsed < SLICE_MS) return;
    this.#endSlice(elapsed);
    await breathe(1);
    if (this.#signal?.aborted) throw canceled("garbage collection canceled", this.#signal.reason);
    this.#sliceStart = performance.now();
  }

  /** Ends the current slice, counting it. */
  finish(): void {
    this.#endSlice(performance.now() - this.#sliceStart);
  }

  #endSlice(ms: number): void {
    if (ms > this.longestMs) this.longestMs = ms;
  }
}

/** The objects a collection may remove: every image, lease, blob, ingest and snapshot it saw. Containers never go. */
const sweepable = (n: GcNode) => n.kind !== "container";

/**
 * Tricolor marking (containerd's pkg/gc): gray nodes wait on a stack, a node turns black
 * once its references are grayed; what stays white when the stack is empty is unreachable.
 */
export class Marker {
  /** Gray or black, by visit identity (flatness included). */
  readonly #seen = new Set<string>();
  readonly #gray: GcNode[] = [];
  /** Reachable, by object identity. */
  readonly black = new Set<string>();
  /** Every sweepable object the scan saw, to be swept unless black. */
  readonly candidates: GcNode[] = [];
  /** The parent key of every snapshot candidate, by nodeId, for the sweep's order (gc-sweep.ts). */
  readonly parents = new Map<string, string>();

  readonly now: number;

  constructor(now: number) {
    this.now = now;
  }

  shade(n: GcNode): void {
    const id = visitId(n);
    if (this.#seen.has(id)) return;
    this.#seen.add(id);
    this.#gray.push(n);
  }

  /**
   * Scans every namespace of `snapshot` for roots and candidates, then marks from the roots,
   * yielding between slices. One ordered pass over each namespace's range reads every record once.
   */
  async markSnapshot(snapshot: ReadSnapshot, pacer: Pacer): Promise<void> {
    const namespaces = snapshot.list(namespacesPrefix).map(({ key }) => String(key[1]));
    for (const ns of namespaces) {
      for (const { key, value } of snapshot.entries(namespaceObjectsPrefix(ns))) {
        await pacer.tick();
        const n = objectAt(key);
        if (!n) continue;
        if (sweepable(n)) {
          this.candidates.push(n);
          if (n.kind === "snapshot") this.parents.set(nodeId(n), (value as SnapshotRecord).parent);
        }
        if (isRoot(n, value, this.now)) this.shade(n);
      }
    }
    while (this.#gray.length > 0) {
      const n = this.#gray.pop()!;
      for (const ref of references(snapshot, n)) {
        this.shade(ref);
        await pacer.tick();
      }
      this.black.add(nodeId(n));
      await pacer.tick();
    }
  }

  /**
   * The write barrier's second half, inside each sweep transaction: every object written since
   * the snapshot (and not remarked yet) is shaded and marking goes on over the current state. An edge can
   * only appear by writing the record it starts from (or a lease's resource entry), so
   * anything reachable now is either reachable in the snapshot or from a written object.
   */
  remark(tx: ReadTx, written: readonly Key[]): void {
    for (const key of written) {
      const n = nodeOfKey(key);
      if (!n) continue;
      // An expired lease is swept, not followed: it keeps nothing.
      if (n.kind === "lease") {
        const record = tx.get<LeaseRecord>(recordKey(n));
        if (!record || isExpiredLease(record, this.now)) continue;
      }
      // Walked again even if the snapshot's marking saw it: its references may have changed.
      this.#seen.add(visitId(n));
      this.#gray.push(n);
    }
    while (this.#gray.length > 0) this.#blacken(tx);
  }

  #blacken(reader: ReadTx): void {
    const n = this.#gray.pop()!;
    for (const ref of references(reader, n)) this.shade(ref);
    this.black.add(nodeId(n));
  }
}

/** The object a key in a namespace's range is the record of; lease resources and indexes are not objects. */
function objectAt(key: Key): GcNode | undefined {
  const type = key[2];
  if (type === "lease-resources" || type === "snapshot-children") return undefined;
  const n = nodeOfKey(key);
  // Only the record key itself (not a longer key under it) is the object.
  if (!n) return undefined;
  const expectedLength = n.kind === "content" || n.kind === "ingest" || n.kind === "snapshot" ? 5 : 4;
  return key.length === expectedLength ? n : undefined;
}
