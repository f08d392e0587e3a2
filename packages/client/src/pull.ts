import { packAny, streamingApi, transferApi, transferTypes } from "@berth/api";
import type { DescService } from "@bufbuild/protobuf";
import type { ServiceClient } from "./service-client.js";
import { openAuthStream, openProgressStream, type TransferProgress } from "./transfer-streams.js";

export type { TransferProgress } from "./transfer-streams.js";

/** How to reach a registry, for pulls and pushes alike. */
export interface RegistryOptions {
  /** Talk plain HTTP to registries without a hosts.toml entry. */
  readonly plainHttp?: boolean;
  /** A hosts.toml configuration directory on the daemon's host. */
  readonly hostsDir?: string;
  /** Registry credentials, sent only when the daemon asks for them. */
  readonly credentials?: { readonly username: string; readonly password: string };
}

export interface PullOptions extends RegistryOptions {
  /** Platforms to fetch ("os/arch[/variant]" parsed by the caller); empty means the daemon's. */
  readonly platforms?: readonly { os: string; architecture: string; variant?: string }[];
  readonly allPlatforms?: boolean;
  /** Unpack into this snapshotter; "" or absent: do not unpack. */
  readonly snapshotter?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: TransferProgress) => void;
}

export type Service = <S extends DescService>(desc: S) => ServiceClient<S>;

/**
 * Pulls in the daemon through containerd's Transfer service: progress comes back on a
 * Streaming side channel, and credentials on another, only if the registry asks.
 */
export async function pullImage(service: Service, ref: string, opts: PullOptions = {}): Promise<void> {
  await withTransferStreams(service, opts, async ({ progressStream, resolver, signal }) => {
    await service(transferApi.Transfer).transfer(
      {
        source: packAny(transferTypes.OCIRegistrySchema, { reference: ref, resolver }),
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
  });
}

export interface TransferStreams {
  /** The progress stream's ID ("" without a listener). */
  readonly progressStream: string;
  /** The RegistryResolver fields for the registry options. */
  readonly resolver: { readonly defaultScheme: string; readonly hostDir: string; readonly authStream: string };
  /** Ends with the transfer; the streams close with it. */
  readonly signal: AbortSignal;
}

/**
 * Opens the side streams a registry transfer uses (progress; auth when credentials are given),
 * runs `fn`, and closes them whatever happens.
 */
export async function withTransferStreams<T>(
  service: Service,
  opts: RegistryOptions & { signal?: AbortSignal | undefined; onProgress?: ((p: TransferProgress) => void) | undefined },
  fn: (streams: TransferStreams) => Promise<T>,
): Promise<T> {
  const streaming = service(streamingApi.Streaming);
  const abort = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, abort.signal]) : abort.signal;
  try {
    const progressStream = opts.onProgress ? await openProgressStream(streaming, signal, opts.onProgress) : "";
    const authStream = opts.credentials ? await openAuthStream(streaming, signal, opts.credentials) : "";
    return await fn({ progressStream, resolver: { defaultScheme: opts.plainHttp ? "http" : "", hostDir: opts.hostsDir ?? "", authStream }, signal });
  } finally {
    abort.abort();
  }
}
