import { parseReference, type Resolver } from "@berth/distribution";
import type { ImageSource } from "./image-source.js";

/** A registry repository as an image source, through @berth/distribution's resolver. */
export function registrySource(resolver: Resolver, ref: string): ImageSource {
  const fetcher = resolver.fetcher(ref);
  const { domain, path } = parseReference(ref);
  return {
    resolve: (signal) => resolver.resolve(ref, { signal }),
    fetch: (desc, opts) => fetcher.fetch(desc, opts),
    origin: { registry: domain, repository: path },
  };
}
