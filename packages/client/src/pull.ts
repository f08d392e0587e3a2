import { randomBytes } from "node:crypto";
import { packAny, streamingApi, transferApi, transferTypes, unpackAny } from "@berth/api";
import type { DescService } from "@bufbuild/protobuf";
import type { CallOptions, ServiceClient } from "./service-client.js";

export interface PullOptions {
  /** Platforms to fetch ("os/arch[/variant]" parsed by the caller); empty means the daemon's. */
  readonly platforms?: readonly { os: string; architecture: string; variant?: string }[];
  readonly allPlatforms?: boolean;
  /** Unpack into this snapshotter; "" or absent: do not unpack. */
  readonly snapshotter?: string;
  /** Talk plain HTTP to registries without a hosts.toml entry. */
  readonly plainHttp?: boolean;
  /** A hosts.toml configuration directory on the daemon's host. */
  readonly hostsDir?: string;
  /** Registry credentials, sent only when the daemon asks for them. */
  readonly credentials?: { readonly username: string; readonly password: string };
  readonly labels?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: TransferProgress) => void;
}

/** One progress report of a daemon-side transfer. */
export interface TransferProgress {
  readonly event: string;
  readonly name: string;
  readonly progress: number;
  readonly total: number;
  readonly mediaType?: string | undefined;
}

type Service = <S extends DescService>(desc: S) => ServiceClient<S>;

/**
 * Pulls in the daemon through containerd's Transfer service: progress comes back on a
 * Streaming side channel, and credentials on another, only if the registry asks.
 */
export async function pullImage(service: Service, ref: string, opts: PullOptions = {}): Promise<void> {
  const streaming = service(streamingApi.Streaming);
  const transfer = service(transferApi.Transfer);
  const abort = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, abort.signal]) : abort.signal;
  try {
    const progressStream = await openStream(streaming, { signal }, (message) => {
      const p = unpackAny(transferTypes.ProgressSchema, message);
      if (p) opts.onProgress?.({ event: p.event, name: p.name, progress: Number(p.progress), total: Number(p.total), mediaType: p.desc?.mediaType });
    });
    const authStream = opts.credentials ? await openAuthStream(streaming, signal, opts.credentials) : undefined;
    await transfer.transfer(
      {
        source: packAny(transferTypes.OCIRegistrySchema, {
          reference: ref,
          resolver: { defaultScheme: opts.plainHttp ? "http" : "", hostDir: opts.hostsDir ?? "", authStream: authStream ?? "" },
        }),
        destination: packAny(transferTypes.ImageStoreSchema, {
          name: ref,
          labels: { ...opts.labels },
          platforms: (opts.platforms ?? []).map((p) => ({ os: p.os, architecture: p.architecture, variant: p.variant ?? "" })),
          allMetadata: opts.allPlatforms ?? false,
          unpacks: opts.snapshotter ? [{ snapshotter: opts.snapshotter }] : [],
        }),
        options: { progressStream },
      },
      { signal, timeoutMs: 0 },
    );
  } finally {
    abort.abort();
  }
}

type Streaming = ServiceClient<typeof streamingApi.Streaming>;
type AnyMessage = { typeUrl: string; value: Uint8Array };

/** Opens a stream, waits for the daemon's acknowledgement, then hands every message to `onMessage`. */
async function openStream(streaming: Streaming, opts: CallOptions & { signal: AbortSignal }, onMessage: (m: AnyMessage) => void, outgoing?: AsyncIterable<AnyMessage>): Promise<string> {
  const id = randomBytes(12).toString("hex");
  async function* requests() {
    yield packAny(streamingApi.StreamInitSchema, { id });
    if (outgoing) yield* outgoing;
    // Keep our side open until the call ends: closing it would end the stream.
    await new Promise((resolve) => opts.signal.addEventListener("abort", resolve, { once: true }));
  }
  const responses = streaming.stream(requests(), opts)[Symbol.asyncIterator]();
  const ack = await responses.next();
  if (ack.done) throw new Error(`stream ${id} closed before the daemon acknowledged it`);
  void (async () => {
    try {
      for (let r = await responses.next(); !r.done; r = await responses.next()) onMessage(r.value);
    } catch {
      // The stream ends with the call.
    }
  })();
  return id;
}

async function openAuthStream(streaming: Streaming, signal: AbortSignal, credentials: { username: string; password: string }): Promise<string> {
  const answers: AnyMessage[] = [];
  let wake: (() => void) | undefined;
  async function* outgoing(): AsyncIterable<AnyMessage> {
    signal.addEventListener("abort", () => wake?.(), { once: true });
    while (!signal.aborted) {
      while (answers.length > 0) yield answers.shift()!;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  return openStream(
    streaming,
    { signal, timeoutMs: 0 },
    (message) => {
      if (unpackAny(transferTypes.AuthRequestSchema, message) === undefined) return;
      answers.push(packAny(transferTypes.AuthResponseSchema, { authType: transferTypes.AuthType.CREDENTIALS, username: credentials.username, secret: credentials.password }));
      wake?.();
    },
    outgoing(),
  );
}
