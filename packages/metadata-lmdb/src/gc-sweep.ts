import type { RemovedObjects, RemovedRecords } from "@berth/core";
import type { WriteTx } from "./db.js";
import type { DirtyBackends } from "./mutation-log.js";
import { node, nodeId, recordKey, type GcNode } from "./gc-graph.js";
import { leaseResourcesPrefix, snapshotChildKey } from "./keys.js";
import type { IngestRecord, SnapshotRecord } from "./records.js";

/** An image a collection removed, for its /images/delete event. */
export type SweptImage = RemovedObjects["images"][number];

/** A snapshot a collection removed, for its /snapshot/remove event. */
export type SweptSnapshot = RemovedObjects["snapshots"][number];

export interface SweptRecords {
  readonly counts: RemovedRecords;
  /** Backends that may now hold data no record names. */
  readonly dirty: DirtyBackends;
  /** What went that containerd announces: images and snapshots. */
  readonly images: readonly SweptImage[];
  readonly snapshots: readonly SweptSnapshot[];
}

/** How much one call to `sweepSome` may do: removals, and time in ms (checked every few candidates). */
export interface SweepBudget {
  readonly removals: number;
  readonly ms: number;
}

/** Candidates between two looks at the clock. */
const CLOCK_EVERY = 32;

/**
 * Removes the candidates the marker left white, a bounded batch per write transaction, so no
 * single transaction holds writers up for long whatever the number of objects. Each removal
 * stands alone: a candidate is removed with what hangs off its record (a lease's resource
 * entries, a snapshot's entry in its parent's child index) in the same transaction, and a white
 * snapshot's children are white too (a child references its parent), so a collection stopped
 * between two batches (a crash) leaves a consistent store whose remaining white objects are
 * still unreachable: the next collection removes them. What went is added up across batches,
 * with the backends the removals may have left data in, for the backend phase.
 */
export class RecordSweeper {
  readonly #candidates: readonly GcNode[];
  readonly #black: ReadonlySet<string>;
  #next = 0;
  readonly #counts = { images: 0, leases: 0, content: 0, ingests: 0, snapshots: 0 };
  readonly #images: SweptImage[] = [];
  readonly #snapshots: SweptSnapshot[] = [];
  readonly #blobs = new Set<string>();
  #ingests = false;
  readonly #snapshotters = new Set<string>();

  /** `black` is read at each batch, so marking may go on (grow it) between batches. */
  constructor(candidates: readonly GcNode[], black: ReadonlySet<string>) {
    this.#candidates = candidates;
    this.#black = black;
  }

  get done(): boolean {
    return this.#next >= this.#candidates.length;
  }

  /** Removes white candidates in `tx` until the budget is spent or none is left; true when none is left. */
  sweepSome(tx: WriteTx, budget: SweepBudget): boolean {
    const started = performance.now();
    let removals = 0;
    for (let looked = 1; this.#next < this.#candidates.length && removals < budget.removals; looked++) {
      const n = this.#candidates[this.#next++]!;
      if (!this.#black.has(nodeId(n)) && this.#remove(tx, n)) removals++;
      if (looked % CLOCK_EVERY === 0 && performance.now() - started >= budget.ms) break;
    }
    return this.done;
  }

  /** What went so far. */
  result(): SweptRecords {
    return {
      counts: { ...this.#counts },
      dirty: { blobs: new Set(this.#blobs), ingests: this.#ingests, snapshotters: new Set(this.#snapshotters) },
      images: [...this.#images],
      snapshots: [...this.#snapshots],
    };
  }

  #remove(tx: WriteTx, n: GcNode): boolean {
    const key = recordKey(n);
    const record = tx.get<unknown>(key);
    // Deleted meanwhile by its owner: nothing left to do.
    if (record === undefined) return false;
    tx.remove(key);
    switch (n.kind) {
      case "image":
        this.#counts.images++;
        this.#images.push({ namespace: n.ns, name: n.key });
        break;
      case "lease":
        tx.removeAll(leaseResourcesPrefix(n.ns, n.key));
        this.#counts.leases++;
        break;
      case "content":
        this.#blobs.add(n.key);
        this.#counts.content++;
        break;
      case "ingest": {
        this.#ingests = true;
        const { shared } = record as IngestRecord;
        if (shared) this.#blobs.add(shared.digest);
        this.#counts.ingests++;
        break;
      }
      case "snapshot": {
        const { parent } = record as SnapshotRecord;
        if (parent !== "") tx.remove(snapshotChildKey(n.ns, n.snapshotter, parent, n.key));
        this.#snapshotters.add(n.snapshotter);
        this.#counts.snapshots++;
        this.#snapshots.push({ namespace: n.ns, snapshotter: n.snapshotter, key: n.key });
        break;
      }
      case "container":
        break;
    }
    return true;
  }
}

/** Referrers before what they reference, as far as kinds go: leases and images hold the rest, content comes last. */
const KIND_ORDER: Record<GcNode["kind"], number> = { lease: 0, image: 1, container: 2, ingest: 3, snapshot: 4, content: 5 };

/**
 * The order a sweep removes candidates in, so that between two batches no surviving object
 * points at a removed one it needs: by kind (KIND_ORDER), and snapshots children first (deepest
 * first), so a white snapshot a writer takes back between batches still has its whole chain.
 * `parents` maps a snapshot candidate's nodeId to its parent's key ("" for none).
 */
export function sweepOrder(candidates: readonly GcNode[], parents: ReadonlyMap<string, string>): GcNode[] {
  const byKind: GcNode[][] = Object.values(KIND_ORDER).map(() => []);
  for (const n of candidates) byKind[KIND_ORDER[n.kind]]!.push(n);
  const depth = snapshotDepths(parents);
  const snapshots = byKind[KIND_ORDER.snapshot]!.map((n) => ({ n, depth: depth(n) }));
  byKind[KIND_ORDER.snapshot] = snapshots.sort((a, b) => b.depth - a.depth).map(({ n }) => n);
  return byKind.flat();
}

/**
 * How many candidate ancestors each snapshot candidate has, each chain walked once (a chain
 * of thousands must not cost its length squared: this runs in one synchronous step).
 */
function snapshotDepths(parents: ReadonlyMap<string, string>): (n: GcNode) => number {
  const known = new Map<string, number>();
  return (n) => {
    const path: string[] = [];
    let id = nodeId(n);
    let above = -1;
    // Parents are created before their children, so a chain ends; the bound guards a damaged store.
    while (path.length <= parents.size) {
      const memo = known.get(id);
      if (memo !== undefined) {
        above = memo;
        break;
      }
      path.push(id);
      const parent = parents.get(id);
      if (!parent) break;
      id = nodeId(node("snapshot", n.ns, parent, n.snapshotter));
      if (!parents.has(id)) break;
    }
    for (let i = path.length - 1; i >= 0; i--) known.set(path[i]!, ++above);
    return known.get(path[0] ?? id)!;
  };
}

/** Every white candidate in one transaction, whatever their number (tests, and small stores). */
export function sweepRecords(tx: WriteTx, candidates: readonly GcNode[], black: ReadonlySet<string>): SweptRecords {
  const sweeper = new RecordSweeper(candidates, black);
  sweeper.sweepSome(tx, { removals: Infinity, ms: Infinity });
  return sweeper.result();
}
