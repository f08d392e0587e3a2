import type { transferTypes } from "@berth/api";
import { notFound, type CallContext } from "@berth/core";
import { importArchive } from "../archive/import-archive.js";
import { receiveData } from "../data-stream.js";
import type { ProgressSender } from "../progress-stream.js";
import { opContextOf, type TransferServiceDeps } from "./deps.js";
import { platformsOf, referenceRules, unpackTarget } from "./image-store-options.js";

/**
 * ImageImportStream → ImageStore: the client streams an archive (containerd's Data messages
 * under window flow control) and the daemon stores it as it arrives — no file on the daemon's
 * host, so a client anywhere can import, as with containerd 2's `ctr images import`.
 */
export async function importFromStream(
  deps: TransferServiceDeps,
  call: CallContext,
  source: transferTypes.ImageImportStream,
  destination: transferTypes.ImageStore,
  progress: ProgressSender | undefined,
): Promise<void> {
  const ctx = opContextOf(call);
  const stream = deps.streams.get(ctx.namespace, source.stream);
  progress?.event("Importing");
  const platforms = platformsOf(destination);
  const result = await importArchive(deps.metadata, ctx, receiveData(stream, call.signal), {
    references: referenceRules(destination),
    indexName: destination.name,
    labels: destination.labels,
    platform: platforms[0] ?? "all",
    unpack: unpackTarget(deps, destination),
    onProgress: progress ? (p) => progress.blob(p) : undefined,
  });
  if (result.images.length === 0) {
    throw notFound(`the archive's index ${result.index.digest} has no image the destination names: give a base name or an index name`);
  }
  for (const image of result.images) progress?.event("saved", image.name);
  progress?.event("Completed import");
}
