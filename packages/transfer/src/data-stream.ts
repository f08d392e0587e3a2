import { packAny, transferTypes, unpackAny } from "@berth/api";
import { isUnavailable, unavailable, type Stream } from "@berth/core";

/**
 * Bytes over a streaming side channel the way containerd's transfer streams carry them:
 * `Data` messages one way, `WindowUpdate` grants the other. The sender never has more bytes in
 * flight than the receiver granted, so a slow side holds the other back instead of queueing
 * without bound. End of data is the sender closing the stream.
 */

/** What this side grants at a time as a receiver (containerd grants 64 KiB; bigger keeps a socket busy). */
export const RECEIVE_WINDOW = 4 << 20;
/** The largest Data message this side sends, whatever the window (containerd sends 32 KiB). */
export const MAX_DATA_MESSAGE = 1 << 20;

/**
 * The bytes a client sends on `stream`, granting windows as they are consumed. Ends when the
 * client closes its side of the stream.
 */
export async function* receiveData(stream: Stream, signal?: AbortSignal, window = RECEIVE_WINDOW): AsyncGenerator<Uint8Array> {
  let granted = 0;
  const grant = async () => {
    await stream.send(packAny(transferTypes.WindowUpdateSchema, { update: window }));
    granted += window;
  };
  await grant();
  for (;;) {
    let message;
    try {
      message = await stream.recv(signal);
    } catch (err) {
      // The stream closing is the end of the data; an abort is not.
      if (isUnavailable(err) && !signal?.aborted) return;
      throw err;
    }
    const data = unpackAny(transferTypes.DataSchema, message);
    if (data === undefined) continue;
    granted -= data.data.byteLength;
    if (granted < window) await grant();
    if (data.data.byteLength > 0) yield data.data;
  }
}

/**
 * Sends `source` to the client on `stream` as it grants windows, then closes the stream. Fails
 * (Unavailable) if the client goes away first.
 */
export async function sendData(stream: Stream, source: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<void> {
  const credit = windowTracker(stream, signal);
  try {
    for await (const chunk of source) {
      let rest = chunk;
      while (rest.byteLength > 0) {
        const n = Math.min(rest.byteLength, MAX_DATA_MESSAGE, await credit.available());
        await stream.send(packAny(transferTypes.DataSchema, { data: rest.subarray(0, n) }));
        credit.use(n);
        rest = rest.subarray(n);
      }
    }
  } finally {
    credit.stop();
    await stream.close();
  }
}

/** The receiver's window as its updates arrive; `available` waits while it is used up. */
function windowTracker(stream: Stream, signal: AbortSignal | undefined) {
  const stop = new AbortController();
  const recvSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  let credit = 0;
  let ended: Error | undefined;
  let wake: (() => void) | undefined;
  void (async () => {
    try {
      for (;;) {
        const update = unpackAny(transferTypes.WindowUpdateSchema, await stream.recv(recvSignal));
        if (update === undefined) continue;
        credit += update.update;
        wake?.();
      }
    } catch (err) {
      ended = stop.signal.aborted ? unavailable("stream stopped") : signal?.aborted ? (signal.reason as Error) : unavailable("the client closed the data stream before all of it was sent", err);
      wake?.();
    }
  })();
  return {
    async available(): Promise<number> {
      while (credit <= 0) {
        if (ended) throw ended;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      return credit;
    },
    use(n: number) {
      credit -= n;
    },
    stop: () => stop.abort(),
  };
}
