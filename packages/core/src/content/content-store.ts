/**
 * The content store: blobs addressed by digest, written through resumable ingests keyed by a
 * client-chosen ref. The same interface serves the local backend (content-local, which
 * ignores the namespace), the namespaced view metadata builds on top of it, and proxies.
 */

/** Who is asking: every store call is scoped to a namespace, optionally under a lease. */
export interface OpContext {
  readonly namespace: string;
  /** A lease ID: what is written under it is protected from garbage collection. */
  readonly lease?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** An OCI content descriptor. Sizes are numbers: blobs stay below 2^53 bytes. */
export interface Descriptor {
  readonly mediaType: string;
  /** "sha256:<hex>" */
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ContentInfo {
  readonly digest: string;
  readonly size: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly labels: Readonly<Record<string, string>>;
}

/** The state of an ingest in progress. */
export interface IngestStatus {
  readonly ref: string;
  /** Bytes written so far; a client resumes from here. */
  readonly offset: number;
  /** Expected total size; 0 when unknown. */
  readonly total: number;
  /** Expected digest; "" when unknown. */
  readonly expected: string;
  readonly startedAt: Date;
  readonly updatedAt: Date;
}

export interface WriterOptions {
  readonly ref: string;
  /** Expected size, 0 if unknown. */
  readonly total?: number;
  /**
   * Expected digest, "" if unknown. If this namespace already has that blob, writer() fails
   * AlreadyExists; if only another namespace has it and sharing allows, the writer starts
   * complete (offset = size) and commit just makes it visible here.
   */
  readonly expected?: string;
}

/**
 * One ingest, held exclusively until closed. Writes append at the current offset; commit
 * verifies size and digest, then makes the blob visible atomically.
 */
export interface ContentWriter {
  readonly ref: string;
  status(): Promise<IngestStatus>;
  /** Appends `data`; returns the new offset. */
  write(data: Uint8Array): Promise<number>;
  /** Cuts the ingest back to `size` bytes (0 restarts it); a resumed client truncates to its offset. */
  truncate(size: number): Promise<void>;
  /** The digest of the bytes written so far. */
  digest(): string;
  /**
   * Verifies and commits. `size` 0 and `expected` "" skip those checks. A mismatch is
   * FailedPrecondition and commits nothing (the ingest stays, to be resumed, truncated or
   * aborted); an existing blob is AlreadyExists. Commit releases the writer whatever the outcome.
   */
  commit(size: number, expected: string, labels?: Readonly<Record<string, string>>): Promise<ContentInfo>;
  /** Releases the ref; the ingest stays for a later writer to resume. */
  close(): Promise<void>;
}

export interface ReadOptions {
  readonly offset?: number;
  /** Bytes to read; 0 or absent reads to the end. */
  readonly size?: number;
}

export interface ContentStore {
  /** NotFound if absent. */
  info(ctx: OpContext, digest: string): Promise<ContentInfo>;
  /** Updates `fieldpaths` ("labels", "labels.<key>"); empty fieldpaths replace all labels. */
  update(ctx: OpContext, info: Pick<ContentInfo, "digest" | "labels">, fieldpaths: readonly string[]): Promise<ContentInfo>;
  /** Blobs matching any filter (fields: digest, size, labels.<key>). */
  walk(ctx: OpContext, filters: readonly string[]): AsyncIterable<ContentInfo>;
  /** NotFound if absent. */
  delete(ctx: OpContext, digest: string): Promise<void>;
  /** The blob's bytes in chunks, from `offset`; NotFound if absent, OutOfRange past the end. */
  read(ctx: OpContext, digest: string, opts?: ReadOptions): AsyncIterable<Uint8Array>;
  /** Opens (or resumes) the ingest `ref`; Unavailable ("ref locked") while another writer holds it. */
  writer(ctx: OpContext, opts: WriterOptions): Promise<ContentWriter>;
  /** NotFound if no ingest has that ref. */
  status(ctx: OpContext, ref: string): Promise<IngestStatus>;
  /** Ingests matching any filter (field: ref). */
  listStatuses(ctx: OpContext, filters: readonly string[]): Promise<IngestStatus[]>;
  /** Removes the ingest; NotFound if none. */
  abort(ctx: OpContext, ref: string): Promise<void>;
}
