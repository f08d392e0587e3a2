import { GzipInflater } from "@berth/native";
import type { ChunkPool } from "./chunk-pool.js";
import { GatheredInput } from "./gathered-input.js";

/** Compressed bytes handed to one inflate step at most, and read ahead of the inflater at most. */
const INPUT_BATCH = 1 << 20;
const INPUT_READ_AHEAD = 4 << 20;

/** Thrown when the compressed stream stops inside a gzip member; zlib's code, as Node's gunzip reports it. */
function truncated(): Error {
  return Object.assign(new Error("unexpected end of file"), { code: "Z_BUF_ERROR" });
}

/**
 * A gzip stream decompressed into `pool`'s buffers, ahead of the reader: the thread pool
 * inflates the next chunks while the caller works on this one, up to the pool's size. Each
 * chunk yielded is a view of a pooled buffer held once for the caller, who must
 * `pool.release` it when done (and may `retain` it for longer-lived views). Chunks are full
 * buffers except the last. Corrupt or truncated data throws an error with zlib's code. Once
 * the iteration has completed, `sha256` is the digest of everything yielded, computed on the
 * thread pool as it inflated.
 */
export class PooledGunzip implements AsyncIterable<Buffer> {
  #sha256: string | undefined;

  constructor(
    private readonly source: AsyncIterable<Uint8Array>,
    private readonly pool: ChunkPool,
    private readonly signal?: AbortSignal,
  ) {}

  /** The SHA-256 (hex) of the whole output; set when the stream ended without error. */
  get sha256(): string | undefined {
    return this.#sha256;
  }

  [Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    return this.#chunks();
  }

  async *#chunks(): AsyncGenerator<Buffer> {
    const { source, pool, signal } = this;
    const stop = new AbortController();
    const stopSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    const ready: Buffer[] = [];
    let finished = false;
    let failure: { error: unknown } | undefined;
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const emit = (chunk: Buffer) => {
      if (stop.signal.aborted) pool.release(chunk); // the reader is gone
      else ready.push(chunk);
      notify();
    };

    const produce = async () => {
      const inflater = new GzipInflater({ sha256: true });
      let out: Buffer | undefined;
      try {
        out = await pool.take(stopSignal);
        let filled = 0;
        const inputs = new GatheredInput(source, INPUT_BATCH, INPUT_READ_AHEAD, stopSignal);
        for (let input = await inputs.next(); input !== undefined; input = await inputs.next()) {
          let at = 0;
          for (;;) {
            stopSignal.throwIfAborted();
            const step = await inflater.step(input.subarray(at), out.subarray(filled));
            at += step.consumed;
            filled += step.produced;
            if (filled === out.length) {
              emit(out);
              out = undefined;
              out = await pool.take(stopSignal);
              filled = 0;
              continue; // zlib may hold more output for this input
            }
            if (at >= input.length) break;
            if (step.consumed === 0 && step.produced === 0) throw new Error("gzip inflater made no progress");
          }
        }
        if (!inflater.complete) throw truncated();
        this.#sha256 = inflater.sha256();
        if (filled > 0) {
          emit(out.subarray(0, filled));
          out = undefined;
        }
      } catch (err) {
        failure = { error: err };
      } finally {
        if (out !== undefined) pool.release(out);
        inflater.close();
        finished = true;
        notify();
      }
    };
    void produce();

    try {
      for (;;) {
        const chunk = ready.shift();
        if (chunk !== undefined) {
          yield chunk;
          continue;
        }
        if (failure !== undefined) throw failure.error;
        if (finished) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      // The reader stopped (done, failed or gave up). Not waited for: the producer may be waiting
      // for the source's next bytes; it stops at its next step and gives its buffers back.
      stop.abort();
      for (const chunk of ready.splice(0)) pool.release(chunk);
    }
  }
}
