import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";

/** Writes `data` and resolves once it has been handed on (or the stream is gone). */
export function writeAndWait(stream: Writable, data: Buffer): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    stream.write(data, () => resolve());
  });
}

/** Ends a writable and waits until everything written before has been flushed, or it is gone. */
export async function endAndFlush(stream: Writable | undefined): Promise<void> {
  if (!stream || stream.destroyed) return;
  if (!stream.writableEnded) stream.end();
  await finished(stream, { readable: false }).catch(() => undefined);
}
