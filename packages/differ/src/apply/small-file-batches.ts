import { createFiles, type NewFile } from "@berth/native";

/** A small regular file the applier has parsed whole, or a symlink, left to a batch. */
export interface BatchedFile {
  /** Its path below the root: how the applier tracks what it wrote. */
  readonly real: string;
  /** The tar entry's name, for errors. */
  readonly name: string;
  readonly file: NewFile;
}

/** A batch is handed to the thread pool once it holds this many files or bytes. */
const BATCH_FILES = 64;
const BATCH_BYTES = 256 * 1024;
/** Files waiting behind a batch in flight before the applier must wait for it. */
const MAX_WAITING = 4 * BATCH_FILES;

/**
 * Small files and symlinks created on the thread pool a batch at a time (@berth/native's
 * createFiles), one batch in flight while the next fills, so the parser goes on while the
 * kernel creates them (on a busy ext4 each creation can block for a millisecond).
 *
 * The applier must `drain` before anything that could meet these files or change the path to
 * them: a later entry with the same path or below it, a removal or replacement, a hardlink, a
 * whiteout. Until then the only changes to the tree are new directories, files, symlinks and
 * devices at paths that did not exist, which cannot redirect a batched file's path (its
 * directories exist already). Files that fail are kept with their error and handed to `drain`'s caller
 * (EEXIST: something was in the way, which the applier replaces as for any entry).
 */
export class SmallFileBatches {
  #filling: BatchedFile[] = [];
  #fillingBytes = 0;
  #inFlight: Promise<void> | undefined;
  #failed: { file: BatchedFile; error: Error }[] = [];
  /** Real paths filling, in flight or failed: not on disk as the layer wants them yet. */
  readonly #pending = new Set<string>();

  /** Nothing filling, in flight or failed. */
  get idle(): boolean {
    return this.#pending.size === 0 && this.#inFlight === undefined;
  }

  /** The filling batch is full and waits behind one in flight: `waitInFlight` before adding. */
  get backlogged(): boolean {
    return this.#inFlight !== undefined && this.#filling.length >= MAX_WAITING;
  }

  /** True when `real` is one of the files not yet created. */
  has(real: string): boolean {
    return this.#pending.has(real);
  }

  /** True when `dir` or a directory above it is one of the files not yet created. */
  hasAncestorOf(dir: string): boolean {
    for (let end = dir.length; end > 0; end = dir.lastIndexOf("/", end - 1)) {
      if (this.#pending.has(dir.slice(0, end))) return true;
    }
    return false;
  }

  add(file: BatchedFile): void {
    this.#filling.push(file);
    this.#fillingBytes += file.file.data.byteLength;
    this.#pending.add(file.real);
    if (this.#inFlight === undefined && (this.#filling.length >= BATCH_FILES || this.#fillingBytes >= BATCH_BYTES)) this.#launch();
  }

  /** Resolves when the batch in flight has completed (and the next one, if full, has left). */
  async waitInFlight(): Promise<void> {
    await this.#inFlight;
  }

  /**
   * Creates everything still filling, waits for every batch, then calls `redo` for each file
   * that failed, in order, on this thread (it throws to fail the layer). Afterwards the
   * batches are idle.
   */
  async drain(redo: (file: BatchedFile, error: Error) => void): Promise<void> {
    while (this.#inFlight !== undefined || this.#filling.length > 0) {
      if (this.#inFlight === undefined) this.#launch();
      await this.#inFlight;
    }
    const failed = this.#failed;
    this.#failed = [];
    this.#pending.clear();
    for (const { file, error } of failed) redo(file, error);
  }

  /** After a failure: resolves once no batch is running, so nothing touches the tree later. */
  async settled(): Promise<void> {
    while (this.#inFlight !== undefined) await this.#inFlight;
  }

  #launch(): void {
    const files = this.#filling;
    this.#filling = [];
    this.#fillingBytes = 0;
    this.#inFlight = createFiles(files.map((f) => f.file)).then(
      (errors) => this.#completed(files, errors),
      (err: unknown) => this.#completed(files, files.map(() => err as Error)),
    );
  }

  #completed(files: readonly BatchedFile[], errors: readonly (Error | undefined)[]): void {
    this.#inFlight = undefined;
    for (const [i, file] of files.entries()) {
      const error = errors[i];
      if (error === undefined) this.#pending.delete(file.real);
      else this.#failed.push({ file, error });
    }
    if (this.#filling.length >= BATCH_FILES || this.#fillingBytes >= BATCH_BYTES) this.#launch();
  }
}
