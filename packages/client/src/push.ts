import { packAny, transferApi, transferTypes } from "@berth/api";
import { withTransferStreams, type RegistryOptions, type Service } from "./pull.js";
import type { TransferProgress } from "./transfer-streams.js";

export interface PushOptions extends RegistryOptions {
  /** Push only these platforms' manifests of an index (the index itself goes whole); default all. */
  readonly platforms?: readonly { os: string; architecture: string; variant?: string }[];
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: TransferProgress) => void;
}

/**
 * Pushes the local image `local` (default: `ref`) to the registry reference `ref`, in the
 * daemon, through containerd 2's Transfer (source ImageStore, destination OCIRegistry).
 */
export async function pushImage(service: Service, ref: string, local: string = ref, opts: PushOptions = {}): Promise<void> {
  await withTransferStreams(service, opts, async ({ progressStream, resolver, signal }) => {
    await service(transferApi.Transfer).transfer(
      {
        source: packAny(transferTypes.ImageStoreSchema, {
          name: local,
          platforms: (opts.platforms ?? []).map((p) => ({ os: p.os, architecture: p.architecture, variant: p.variant ?? "" })),
        }),
        destination: packAny(transferTypes.OCIRegistrySchema, { reference: ref, resolver }),
        options: { progressStream },
      },
      { signal, timeoutMs: 0 },
    );
  });
}
