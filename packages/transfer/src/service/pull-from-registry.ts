import type { transferTypes } from "@berth/api";
import type { CallContext } from "@berth/core";
import { type ProgressSender } from "../progress-stream.js";
import { pullImage } from "../pull.js";
import { registrySource } from "../registry-source.js";
import type { ImageSource } from "../image-source.js";
import { opContextOf, type TransferServiceDeps } from "./deps.js";
import { platformsOf, unpackTarget } from "./image-store-options.js";
import { registryResolver } from "./registry-resolver.js";

/** OCIRegistry → ImageStore: a pull in the daemon, unpacked as the destination asks. */
export async function pullFromRegistry(
  deps: TransferServiceDeps,
  call: CallContext,
  source: transferTypes.OCIRegistry,
  destination: transferTypes.ImageStore,
  progress: ProgressSender | undefined,
): Promise<void> {
  const ctx = opContextOf(call);
  const resolver = registryResolver(deps, ctx.namespace, source, call.signal);
  try {
    // The events and names containerd's transfer service reports, so its clients print the same.
    progress?.event(`Resolving from ${source.reference}`);
    const result = await pullImage(deps.metadata, ctx, withName(registrySource(resolver, source.reference), destination.name), {
      platform: destination.allMetadata ? "all" : platformsOf(destination)[0],
      unpack: unpackTarget(deps, destination),
      labels: destination.labels,
      onProgress: progress ? (p) => progress.blob(p) : undefined,
    });
    progress?.event("saved", result.image.name);
    progress?.event(`Completed pull from ${source.reference}`);
  } finally {
    await resolver.close();
  }
}

function withName(source: ImageSource, name: string): ImageSource {
  if (name === "") return source;
  return { ...source, resolve: async (signal) => ({ ...(await source.resolve(signal)), name }) };
}
