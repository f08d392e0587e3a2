import type { transferTypes } from "@berth/api";
import { invalidArgument, type CallContext } from "@berth/core";
import type { ProgressSender } from "../progress-stream.js";
import { pushImage } from "../push.js";
import { opContextOf, type TransferServiceDeps } from "./deps.js";
import { platformsOf } from "./image-store-options.js";
import { registryResolver } from "./registry-resolver.js";

/**
 * ImageStore → OCIRegistry: containerd 2's push, done by the daemon. The source names the
 * local image; the registry reference says where it goes (its tag names the pushed root).
 */
export async function pushToRegistry(
  deps: TransferServiceDeps,
  call: CallContext,
  source: transferTypes.ImageStore,
  destination: transferTypes.OCIRegistry,
  progress: ProgressSender | undefined,
): Promise<void> {
  const ctx = opContextOf(call);
  if (source.name === "") throw invalidArgument("push: the source image store names no image");
  const image = await deps.metadata.images.get(ctx, source.name);
  const resolver = registryResolver(deps, ctx.namespace, destination, call.signal);
  try {
    progress?.event(`Pushing to ${destination.reference}`);
    progress?.event("pushing content", image.name);
    const platforms = platformsOf(source);
    await pushImage(deps.metadata.content, ctx, image.target, resolver.pusher(destination.reference), {
      platforms: platforms.length > 0 ? platforms : "all",
      onProgress: progress ? (p) => progress.blob(p) : undefined,
    });
    progress?.event("pushed content", image.name);
    progress?.event(`Completed push to ${destination.reference}`);
  } finally {
    await resolver.close();
  }
}
