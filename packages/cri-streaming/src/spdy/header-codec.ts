import { constants, createInflate, deflateRawSync, deflateSync, type Inflate } from "node:zlib";
import { SPDY3_HEADER_DICTIONARY } from "./dictionary.js";
import { SpdyProtocolError } from "./frames.js";

/**
 * Header compression for one direction of a SPDY session. The peer inflates every header block
 * it receives as one continuing zlib stream, so each block we send continues that stream and
 * ends on a sync-flush boundary.
 *
 * Each block is compressed on its own (synchronously, so frames keep their order): the first
 * one as a zlib stream primed with the SPDY dictionary (header, dictionary id, deflate data, no
 * trailer), later ones as raw deflate segments that reference only their own bytes. A decoder
 * reading them in sequence sees one valid stream; we give up only cross-block back-references.
 */
export class HeaderCompressor {
  private started = false;

  compress(block: Buffer): Buffer {
    const opts = { finishFlush: constants.Z_SYNC_FLUSH, level: 6 };
    if (!this.started) {
      this.started = true;
      return deflateSync(block, { ...opts, dictionary: SPDY3_HEADER_DICTIONARY });
    }
    return deflateRawSync(block, opts);
  }
}

/** Guards against a small frame that inflates without bound. */
const MAX_HEADER_BLOCK = 256 * 1024;

/**
 * Inflates the peer's header blocks: one zlib stream for the whole session, primed with the
 * SPDY dictionary. Blocks must be fed in arrival order; calls are serialised internally.
 */
export class HeaderDecompressor {
  private readonly inflate: Inflate = createInflate({ dictionary: SPDY3_HEADER_DICTIONARY });
  private chain: Promise<unknown> = Promise.resolve();
  private output: Buffer[] = [];
  private outputBytes = 0;
  private failure: Error | undefined;
  private rejectCurrent: ((err: Error) => void) | undefined;

  constructor() {
    this.inflate.on("data", (chunk: Buffer) => {
      this.output.push(chunk);
      this.outputBytes += chunk.length;
      if (this.outputBytes > MAX_HEADER_BLOCK) {
        this.inflate.destroy(new Error(`header block inflates past ${MAX_HEADER_BLOCK} bytes`));
      }
    });
    this.inflate.on("error", (err) => {
      this.failure = err;
      this.rejectCurrent?.(new SpdyProtocolError(`header decompression failed: ${err.message}`));
    });
  }

  decompress(compressed: Buffer): Promise<Buffer> {
    const run = this.chain.then(() => this.inflateOne(compressed));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private inflateOne(compressed: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(new SpdyProtocolError(`header decompression failed: ${this.failure.message}`));
      this.rejectCurrent = reject;
      this.inflate.write(compressed);
      this.inflate.flush(constants.Z_SYNC_FLUSH, () => {
        this.rejectCurrent = undefined;
        if (this.failure) return reject(new SpdyProtocolError(`header decompression failed: ${this.failure.message}`));
        const out = Buffer.concat(this.output, this.outputBytes);
        this.output = [];
        this.outputBytes = 0;
        resolve(out);
      });
    });
  }

  close(): void {
    this.inflate.removeAllListeners("data");
    this.inflate.on("error", () => {});
    this.inflate.destroy();
  }
}
