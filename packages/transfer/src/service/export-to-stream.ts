import type { transferTypes } from "@berth/api";
import { invalidArgument, notImplemented, type CallContext, type Image, type ImageStore, type OpContext } from "@berth/core";
import { normalizePlatform } from "@berth/image-spec";
import { exportArchive } from "../archive/export-archive.js";
import { sendData } from "../data-stream.js";
import type { ProgressSender } from "../progress-stream.js";
import { opContextOf, type TransferServiceDeps } from "./deps.js";

/**
 * ImageStore → ImageExportStream: the named images written as an OCI image layout tar to the
 * client's stream, sent as the client grants windows.
 */
export async function exportToStream(
  deps: TransferServiceDeps,
  call: CallContext,
  source: transferTypes.ImageStore,
  destination: transferTypes.ImageExportStream,
  progress: ProgressSender | undefined,
): Promise<void> {
  const ctx = opContextOf(call);
  const images = await lookupImages(deps.metadata.images, ctx, source);
  const stream = deps.streams.get(ctx.namespace, destination.stream);
  progress?.event("Exporting");
  await sendData(
    stream,
    exportArchive(deps.metadata.content, ctx, images, {
      platforms: destination.platforms.map((p) => normalizePlatform({ os: p.os, architecture: p.architecture, variant: p.variant })),
      allPlatforms: destination.allPlatforms,
      skipCompatibilityManifest: destination.skipCompatibilityManifest,
    }),
    call.signal,
  );
  for (const image of images) progress?.event("exported", image.name);
  progress?.event("Completed export");
}

/** The images an ImageStore source names: its name and each plain extra reference (prefixes are not looked up, as in containerd). */
async function lookupImages(images: ImageStore, ctx: OpContext, source: transferTypes.ImageStore): Promise<Image[]> {
  const names = [source.name, ...source.extraReferences.map((r) => {
    if (r.isPrefix) throw notImplemented(`export by prefix (${r.name}) is not supported: name each image`);
    return r.name;
  })].filter((n) => n !== "");
  if (names.length === 0) throw invalidArgument("export: the source image store names no image");
  return Promise.all(names.map((name) => images.get(ctx, name)));
}
