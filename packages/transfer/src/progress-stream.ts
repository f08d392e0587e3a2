import { packAny, transferTypes } from "@berth/api";
import type { Stream } from "@berth/core";
import type { BlobProgress, BlobState } from "./image-source.js";

/** The event names containerd's transfer service reports per blob. */
const EVENTS: Readonly<Record<BlobState, string>> = {
  waiting: "waiting",
  downloading: "downloading",
  verifying: "verifying",
  done: "complete",
  exists: "already exists",
  unpacking: "unpacking",
  unpacked: "unpacked",
  uploading: "uploading",
  mounted: "mounted",
};

/**
 * Sends transfer progress on a client's stream as containerd.types.transfer.Progress. Byte
 * updates for one blob are coalesced to one message per `intervalMs`; state changes go at once.
 */
export function progressSender(stream: Stream, intervalMs = 100) {
  const lastSent = new Map<string, number>();
  let chain = Promise.resolve();
  const send = (event: string, name: string, extra: { progress?: number; total?: number; desc?: BlobProgress } = {}) => {
    const desc = extra.desc;
    const message = packAny(transferTypes.ProgressSchema, {
      event,
      name,
      progress: BigInt(extra.progress ?? 0),
      total: BigInt(extra.total ?? 0),
      desc: desc ? { mediaType: desc.mediaType, digest: desc.digest, size: BigInt(desc.total) } : undefined,
    });
    // Keep order; a client that went away must not fail the transfer.
    chain = chain.then(() => stream.send(message)).catch(() => undefined);
  };
  return {
    event: (event: string, name = "") => send(event, name),
    blob(p: BlobProgress) {
      const now = Date.now();
      const bytesOnly = p.state === "downloading" || p.state === "uploading";
      if (bytesOnly && now - (lastSent.get(p.digest) ?? 0) < intervalMs) return;
      lastSent.set(p.digest, now);
      send(EVENTS[p.state], p.digest, { progress: p.offset, total: p.total, desc: p });
    },
    flush: () => chain,
  };
}

export type ProgressSender = ReturnType<typeof progressSender>;
