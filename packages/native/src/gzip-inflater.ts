import { binding, type InflateBackend, type InflateStep, type NativeInflater } from "./binding.js";

export type { InflateBackend, InflateStep } from "./binding.js";

let backends: readonly InflateBackend[] | undefined;

/** The inflate backends this host can use, fastest first ("zlib" is always there). */
export function gzipInflateBackends(): readonly InflateBackend[] {
  backends ??= Object.freeze(binding.gzipInflaterBackends());
  return backends;
}

/**
 * A gzip stream decompressed step by step into output arrays the caller owns and may reuse,
 * on libuv's thread pool (Node's zlib streams allocate a new buffer per output chunk). Members
 * of a multi-member file are read one after the other; bytes after the last member that do not
 * start another are ignored, as Node's gunzip does. Corrupt data rejects with an error whose
 * `code` is zlib's (Z_DATA_ERROR…), whichever backend ran. With `sha256`, the steps also
 * digest what they produce, on the same thread-pool thread. The backend is the fastest the
 * host has unless `backend` names one.
 */
export class GzipInflater {
  readonly #handle: NativeInflater;
  #ended = false;

  readonly backend: InflateBackend;

  constructor(opts: { sha256?: boolean; backend?: InflateBackend } = {}) {
    this.backend = opts.backend ?? gzipInflateBackends()[0]!;
    this.#handle = binding.gzipInflaterNew(opts.sha256 === true, this.backend);
  }

  /**
   * Inflates from `input` into `output` until the output is full or the input is used up.
   * Neither array may be touched until the promise settles; one step at a time.
   */
  async step(input: Uint8Array, output: Uint8Array): Promise<InflateStep> {
    const step = await binding.gzipInflaterStep(this.#handle, input, output);
    this.#ended = step.memberEnded;
    return step;
  }

  /** True when the input so far ends exactly after a complete member: the stream is not truncated. */
  get complete(): boolean {
    return this.#ended;
  }

  /** The SHA-256 (hex) of every byte produced so far; once, between steps, with `sha256` only. */
  sha256(): string {
    return binding.gzipInflaterSha256(this.#handle).toString("hex");
  }

  /** Frees the inflate state now (after a running step) rather than at garbage collection. */
  close(): void {
    binding.gzipInflaterClose(this.#handle);
  }
}
