import { packAny, streamingApi, transferApi, transferTypes } from "@berth/api";
import { hostPlatform } from "@berth/image-spec";
import type { Service } from "./pull.js";
import { openProgressStream, openStream, receiveBytes, sendBytes, type TransferProgress } from "./transfer-streams.js";

type PlatformSpec = { os: string; architecture: string; variant?: string | undefined };
const platformMessages = (ps: readonly PlatformSpec[] | undefined) => (ps ?? []).map((p) => ({ os: p.os, architecture: p.architecture, variant: p.variant ?? "" }));

export interface ImportOptions {
  /**
   * containerd's base name: bare tags in the archive become `<baseName>:<tag>`, and full names
   * are kept only under it unless `allowOverwrite`. Default, as ctr: "import-YYYY-MM-DD" with
   * the archive's full names kept.
   */
  readonly baseName?: string;
  /** With a baseName: keep full names that are not under it too. */
  readonly allowOverwrite?: boolean;
  /** Also name each image `<baseName>@<digest>`. */
  readonly digests?: boolean;
  /** Store the archive's index itself under this name. */
  readonly indexName?: string;
  /** Take in these platforms' manifests (default: the daemon's); empty with allPlatforms: all. */
  readonly platforms?: readonly PlatformSpec[];
  readonly allPlatforms?: boolean;
  /** Unpack into this snapshotter; "" or absent: do not unpack. */
  readonly snapshotter?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: TransferProgress) => void;
}

/**
 * Imports an image archive (OCI layout or docker-archive tar, compressed or not) into the
 * daemon: the bytes go on a Streaming stream under the daemon's window flow control
 * (containerd 2's ImageImportStream), so the file need not be on the daemon's host.
 */
export async function importImages(service: Service, archive: AsyncIterable<Uint8Array>, opts: ImportOptions = {}): Promise<void> {
  await withStreams(opts.signal, async (signal) => {
    const streaming = service(streamingApi.Streaming);
    const progressStream = opts.onProgress ? await openProgressStream(streaming, signal, opts.onProgress) : "";
    const data = await openStream(streaming, signal);
    const baseName = opts.baseName ?? `import-${new Date().toISOString().slice(0, 10)}`;
    const allowOverwrite = opts.baseName === undefined || (opts.allowOverwrite ?? false);
    const platforms = opts.allPlatforms ? [] : platformMessages(opts.platforms?.length ? opts.platforms : [hostPlatform()]);
    const transfer = service(transferApi.Transfer).transfer(
      {
        source: packAny(transferTypes.ImageImportStreamSchema, { stream: data.id, mediaType: "" }),
        destination: packAny(transferTypes.ImageStoreSchema, {
          name: opts.indexName ?? "",
          labels: { ...opts.labels },
          platforms,
          extraReferences: [{ name: baseName, isPrefix: true, allowOverwrite, addDigest: opts.digests ?? false }],
          unpacks: opts.snapshotter ? [{ snapshotter: opts.snapshotter }] : [],
        }),
        options: { progressStream },
      },
      { signal, timeoutMs: 0 },
    );
    // Sending stops early when the transfer fails; its error is the one to report.
    const sending = sendBytes(data, archive, signal);
    sending.catch(() => undefined);
    await transfer;
    await sending;
  });
}

export interface ExportOptions {
  /** The platforms whose manifests go into the archive (default: the daemon's). */
  readonly platforms?: readonly PlatformSpec[];
  readonly allPlatforms?: boolean;
  /** Leave out docker's manifest.json. */
  readonly skipManifestJson?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: TransferProgress) => void;
}

/**
 * Exports images as an OCI image layout tar, written by the daemon to a Streaming stream
 * (containerd 2's ImageExportStream) and handed to `sink` as it arrives. Resolves once the
 * daemon reported success and every byte went to the sink.
 */
export async function exportImages(service: Service, names: readonly string[], sink: (chunk: Uint8Array) => Promise<void> | void, opts: ExportOptions = {}): Promise<void> {
  await withStreams(opts.signal, async (signal) => {
    const streaming = service(streamingApi.Streaming);
    const progressStream = opts.onProgress ? await openProgressStream(streaming, signal, opts.onProgress) : "";
    const data = await openStream(streaming, signal);
    const receiving = (async () => {
      for await (const chunk of receiveBytes(data)) await sink(chunk);
    })();
    receiving.catch(() => undefined);
    await service(transferApi.Transfer).transfer(
      {
        source: packAny(transferTypes.ImageStoreSchema, { extraReferences: names.map((name) => ({ name })) }),
        destination: packAny(transferTypes.ImageExportStreamSchema, {
          stream: data.id,
          mediaType: "",
          platforms: platformMessages(opts.platforms),
          allPlatforms: opts.allPlatforms ?? false,
          skipCompatibilityManifest: opts.skipManifestJson ?? false,
        }),
        options: { progressStream },
      },
      { signal, timeoutMs: 0 },
    );
    await receiving;
  });
}

async function withStreams<T>(outer: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  try {
    return await fn(outer ? AbortSignal.any([outer, abort.signal]) : abort.signal);
  } finally {
    abort.abort();
  }
}
