import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { silentLogger, type ContentStore, type Logger, type MetadataStore, type OpContext, type Snapshotter } from "@berth/core";
import { createContainerStore } from "./containers.js";
import { createNamespacedContentStore, type ContentSharingPolicy } from "./content.js";
import { ContentGate, gateContent } from "./content-gate.js";
import { MetaDb } from "./db.js";
import { InFlightCommits, findUnreferencedContent, type UnreferencedContent } from "./gc.js";
import { createLmdbCollector, type LmdbCollector } from "./gc-collector.js";
import { createImageStore } from "./images.js";
import { createLeaseManager } from "./leases.js";
import { MIGRATIONS, runMigrations, type Migration } from "./migrations.js";
import { createNamespaceStore } from "./namespaces.js";
import { settleInterruptedCommits } from "./snapshot-recovery.js";
import { createNamespacedSnapshotter } from "./snapshots.js";
import { liveMap } from "./live-map.js";

export interface MetadataStoreOptions {
  /** containerd's content_sharing_policy; default "shared". */
  readonly contentSharingPolicy?: ContentSharingPolicy;
  readonly log?: Logger;
  /**
   * Backend snapshotters by name ("overlayfs"); each is served namespaced as
   * `snapshotters.get(name)`. The map may change after open (the loader's live map, with
   * snapshotters registered while the daemon runs): the store follows it. Their snapshots' metadata lives here; the backends stay open
   * after `close()` (they are closed by whoever opened them).
   */
  readonly snapshotters?: ReadonlyMap<string, Snapshotter>;
  /** The migration list; tests substitute their own. Default: this build's. */
  readonly migrations?: readonly Migration[];
  /**
   * The garbage collector's clock, in ms since the epoch: what `containerd.io/gc.expire`
   * labels and ingest expiries are compared with. Default: Date.now.
   */
  readonly clock?: () => number;
}

export interface LmdbMetadataStore extends MetadataStore {
  /** The layout version the database is at (the last migration's). */
  readonly schemaVersion: number;
  /** Backend blobs and ingests no namespace refers to, for a garbage collector; see gc.ts. */
  unreferencedContent(ctx?: OpContext): Promise<UnreferencedContent>;
  /** Mark and sweep over this store and its backends (gc-collector.ts). */
  readonly collector: LmdbCollector;
  /** Closes the lmdb environment; the store is unusable afterwards. */
  close(): Promise<void>;
}

/**
 * Opens the metadata environment at `path` (a file; `<path>-lock` beside it), migrating it to
 * this build's layout, over `backend`, the content store that holds the bytes, and the
 * backend snapshotters of `opts.snapshotters`. Snapshot commits a crash interrupted are
 * settled before it returns.
 */
export async function openMetadataStore(
  path: string,
  backend: ContentStore,
  opts: MetadataStoreOptions = {},
): Promise<LmdbMetadataStore> {
  await mkdir(dirname(path), { recursive: true });
  const db = MetaDb.open(path);
  const log = opts.log ?? silentLogger;
  const backends = opts.snapshotters ?? new Map<string, Snapshotter>();
  let schemaVersion: number;
  try {
    schemaVersion = runMigrations(db, opts.migrations ?? MIGRATIONS, opts.log);
    await settleInterruptedCommits(db, backends, log);
  } catch (err) {
    await db.close();
    throw err;
  }
  const inFlight = new InFlightCommits();
  const gate = new ContentGate();
  // Keys being created per snapshotter, shared by its namespaced view and the collector; made
  // on first use, since snapshotters may be registered after open (liveMap).
  const creating = new Map<string, Set<string>>();
  const creatingOf = (name: string) => {
    let keys = creating.get(name);
    if (!keys) creating.set(name, (keys = new Set()));
    return keys;
  };
  const collector = createLmdbCollector({
    db,
    content: { backend, gate, inFlight },
    snapshotters: liveMap(backends, (name, snapshots) => ({ backend: snapshots, creating: creatingOf(name) })),
    log: log.with({ component: "gc" }),
    clock: opts.clock ?? Date.now,
  });
  return {
    schemaVersion,
    namespaces: createNamespaceStore(db),
    images: createImageStore(db),
    containers: createContainerStore(db),
    leases: createLeaseManager(db),
    content: createNamespacedContentStore(db, gateContent(backend, gate), opts.contentSharingPolicy ?? "shared", inFlight),
    snapshotters: liveMap(backends, (name, snapshots) =>
      createNamespacedSnapshotter({ db, name, backend: snapshots, log: log.with({ snapshotter: name }), creating: creatingOf(name) }),
    ),
    // The backend ignores namespaces; the context only carries the signal.
    unreferencedContent: (ctx = { namespace: "" }) => findUnreferencedContent(db, backend, inFlight, ctx),
    collector,
    close: async () => {
      await collector.close();
      await db.close();
    },
  };
}
