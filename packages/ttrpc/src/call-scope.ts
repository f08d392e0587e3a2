import { canceled, deadlineExceeded, isBerthError, type BerthError } from "@berth/core";
import { deadlineError } from "./status.js";
import { TTRPC_NAMESPACE_HEADER, toKeyValues, type TtrpcMetadataInit } from "./metadata.js";
import type { RequestHead } from "./envelope.js";

/** Per-call options; a client's defaults apply where a call leaves one out. */
export interface TtrpcCallOptions {
  /** Sent as the request's metadata; a key given here replaces the client default's values. */
  readonly metadata?: TtrpcMetadataInit;
  /** containerd's namespace, sent as `containerd-namespace-ttrpc` metadata. */
  readonly namespace?: string;
  /** The call fails with DeadlineExceeded after this long; the server gets it as timeout_nano. */
  readonly timeoutMs?: number;
  /** Aborting fails the call with Canceled (DeadlineExceeded for a TimeoutError reason). */
  readonly signal?: AbortSignal;
}

/**
 * What one call needs besides its messages: the request head (metadata, timeout) and the end
 * of the call by deadline or signal. ttrpc has no cancel frame, so ending a call is local:
 * the caller stops waiting and the server learns only through timeout_nano.
 */
export interface CallScope {
  readonly head: RequestHead;
  /** Set once the deadline passed or the signal fired. */
  readonly ended: BerthError | undefined;
  dispose(): void;
}

export function openCallScope(
  service: string,
  method: string,
  defaults: TtrpcCallOptions,
  options: TtrpcCallOptions | undefined,
  onEnd: (error: BerthError) => void,
): CallScope {
  const timeoutMs = options?.timeoutMs ?? defaults.timeoutMs;
  const namespace = options?.namespace ?? defaults.namespace;
  const signal = options?.signal;
  const metadata = toKeyValues(
    defaults.metadata,
    options?.metadata,
    namespace === undefined ? undefined : { [TTRPC_NAMESPACE_HEADER]: namespace },
  );
  const head: RequestHead = {
    service,
    method,
    timeoutNano: timeoutMs !== undefined && timeoutMs > 0 ? BigInt(Math.ceil(timeoutMs * 1e6)) : 0n,
    metadata,
  };

  let ended: BerthError | undefined;
  let timer: NodeJS.Timeout | undefined;
  const end = (error: BerthError) => {
    if (ended) return;
    ended = error;
    dispose();
    onEnd(error);
  };
  const onAbort = () => end(abortError(signal!.reason));
  const dispose = () => {
    if (timer) clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  };

  if (signal?.aborted) {
    ended = abortError(signal.reason);
  } else {
    signal?.addEventListener("abort", onAbort, { once: true });
    if (head.timeoutNano > 0n) timer = setTimeout(() => end(deadlineError(timeoutMs!)), timeoutMs);
  }
  return {
    head,
    get ended() {
      return ended;
    },
    dispose,
  };
}

function abortError(reason: unknown): BerthError {
  if (isBerthError(reason)) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError") return deadlineExceeded("ttrpc: call timed out", reason);
  return canceled("ttrpc: call canceled", reason);
}
