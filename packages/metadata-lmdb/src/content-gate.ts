import type { ContentInfo, ContentStore, ContentWriter, OpContext } from "@berth/core";

/**
 * Keeps the collector's backend blob deletions and new claims on the same digest apart, the
 * way containerd's content store lock does, but per digest. A blob no namespace owns can gain
 * an owner in two ways: a commit of the same bytes (its writer's commit), or a writer that
 * finds the blob already in the backend and shares it (content.ts asks the backend's `info`,
 * then records a shared ingest). The collector decides to delete a digest in one synchronous
 * step that also checks `claimed`, so either it sees the claim and keeps the blob, or the
 * claimant waits here until the deletion is over and then finds no blob (and uploads it).
 */
export class ContentGate {
  readonly #deleting = new Map<string, Promise<void>>();
  readonly #claims = new Map<string, number>();

  /** Resolves once `digest` is not being deleted. */
  async passable(digest: string): Promise<void> {
    for (let pending = this.#deleting.get(digest); pending; pending = this.#deleting.get(digest)) await pending;
  }

  /** True while someone has looked the blob up to share it and has not recorded it yet. */
  claimed(digest: string): boolean {
    return this.#claims.has(digest);
  }

  /** Marks `digest` as being deleted; the returned call ends that. Synchronous, so it goes with the checks before it. */
  beginDelete(digest: string): () => void {
    let end!: () => void;
    const done = new Promise<void>((resolve) => (end = resolve));
    this.#deleting.set(digest, done);
    return () => {
      if (this.#deleting.get(digest) === done) this.#deleting.delete(digest);
      end();
    };
  }

  claim(digest: string): () => void {
    this.#claims.set(digest, (this.#claims.get(digest) ?? 0) + 1);
    return () => {
      const n = (this.#claims.get(digest) ?? 0) - 1;
      if (n > 0) this.#claims.set(digest, n);
      else this.#claims.delete(digest);
    };
  }
}

/**
 * `backend` as the namespaced content store uses it: `info` and a writer's `commit` pass the
 * gate first. A claim made by `info` lasts until the event loop's next turn: the caller
 * records its shared ingest in the continuation of that call, before any timer or I/O
 * callback (where a collector's next decision would run) can come in between.
 */
export function gateContent(backend: ContentStore, gate: ContentGate): ContentStore {
  return {
    info: async (ctx: OpContext, digest: string): Promise<ContentInfo> => {
      await gate.passable(digest);
      const release = gate.claim(digest);
      try {
        return await backend.info(ctx, digest);
      } finally {
        setImmediate(release);
      }
    },
    update: (ctx, info, fieldpaths) => backend.update(ctx, info, fieldpaths),
    walk: (ctx, filters) => backend.walk(ctx, filters),
    delete: (ctx, digest) => backend.delete(ctx, digest),
    read: (ctx, digest, opts) => backend.read(ctx, digest, opts),
    writer: async (ctx, opts) => gatedWriter(await backend.writer(ctx, opts), gate),
    status: (ctx, ref) => backend.status(ctx, ref),
    listStatuses: (ctx, filters) => backend.listStatuses(ctx, filters),
    abort: (ctx, ref) => backend.abort(ctx, ref),
  };
}

function gatedWriter(inner: ContentWriter, gate: ContentGate): ContentWriter {
  return {
    ref: inner.ref,
    status: () => inner.status(),
    write: (data) => inner.write(data),
    truncate: (size) => inner.truncate(size),
    digest: () => inner.digest(),
    async commit(size, expected, labels) {
      await gate.passable(inner.digest());
      return inner.commit(size, expected, labels);
    },
    close: () => inner.close(),
  };
}
