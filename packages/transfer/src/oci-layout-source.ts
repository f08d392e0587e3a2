import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { invalidArgument, notFound, type Descriptor } from "@berth/core";
import { parseIndex } from "@berth/image-spec";
import type { ImageSource } from "./image-source.js";

const REF_NAME = "org.opencontainers.image.ref.name";

/**
 * An OCI image layout directory (oci-layout, index.json, blobs/sha256/…) as an image source:
 * `refName` picks the index entry annotated with that ref name; without it the layout must
 * hold exactly one. The image is named `imageName`.
 */
export function ociLayoutSource(dir: string, imageName: string, refName?: string): ImageSource {
  return {
    async resolve() {
      const bytes = await readFile(join(dir, "index.json"));
      const index = parseIndex(bytes, `${dir}/index.json`);
      const candidates = refName === undefined ? index.manifests : index.manifests.filter((m) => m.annotations?.[REF_NAME] === refName);
      if (candidates.length === 0) throw notFound(`no image ${refName ?? ""} in the layout at ${dir}`);
      if (candidates.length > 1) throw invalidArgument(`the layout at ${dir} holds ${candidates.length} images: name one`);
      const { mediaType, digest, size } = candidates[0]!;
      return { name: imageName, descriptor: { mediaType, digest, size } };
    },
    fetch(desc: Descriptor, opts) {
      const path = join(dir, "blobs", ...desc.digest.split(":"));
      return createReadStream(path, { start: opts.offset, highWaterMark: 1 << 20, signal: opts.signal });
    },
  };
}
