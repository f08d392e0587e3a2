import { rfc3339Nano, type NanoClock } from "./nanos.js";

export type LogStreamName = "stdout" | "stderr";

/**
 * Turns one output stream into CRI log entries, `<RFC3339Nano> <stream> <P|F> <text>\n`: a line
 * that ended is F (its "\n" or "\r\n" dropped); a piece of a line longer than `maxLineSize`, or
 * what is left when the stream ends without a newline, is P. The kubelet joins P pieces with
 * the F that follows.
 */
export class CriLogLines {
  #pending: Buffer = Buffer.alloc(0);
  readonly #prefixBytes: Buffer;

  constructor(
    readonly stream: LogStreamName,
    /** Bytes of text per entry at most; 0 or less means no limit. */
    private readonly maxLineSize: number,
    private readonly clock: NanoClock,
    private readonly emit: (entry: Buffer) => void,
  ) {
    this.#prefixBytes = Buffer.from(` ${stream} `);
  }

  push(chunk: Buffer): void {
    let data = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10)) {
      let line = data.subarray(0, nl);
      if (line.length > 0 && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
      this.#emitLine(line, "F");
      data = data.subarray(nl + 1);
    }
    data = this.#splitLong(data);
    // Copied: `data` may be a view on the caller's buffer, which it is free to reuse.
    this.#pending = Buffer.from(data);
  }

  /** The stream ended: a line without its newline is written as partial. */
  end(): void {
    if (this.#pending.length > 0) this.#write(this.#pending, "P");
    this.#pending = Buffer.alloc(0);
  }

  #emitLine(line: Buffer, tag: "F"): void {
    this.#write(this.#splitLong(line), tag);
  }

  /** Writes P entries while `data` is over the limit; returns the rest (a line of exactly `max` bytes stays whole). */
  #splitLong(data: Buffer): Buffer {
    const max = this.maxLineSize;
    if (max <= 0) return data;
    while (data.length > max) {
      this.#write(data.subarray(0, max), "P");
      data = data.subarray(max);
    }
    return data;
  }

  #write(text: Buffer, tag: "P" | "F"): void {
    const head = Buffer.from(rfc3339Nano(this.clock.now()));
    this.emit(Buffer.concat([head, this.#prefixBytes, Buffer.from(tag === "P" ? "P " : "F "), text, Buffer.from("\n")]));
  }
}
