import { notFound } from "@berth/core";
import type { HostCapability, RegistryHost, RegistryHosts } from "../hosts/registry-host.js";
import { formatReference, type ImageReference } from "../reference/reference.js";
import type { Session } from "./session.js";

/** One repository on one registry, as fetchers and pushers see it. */
export interface Repository {
  readonly session: Session;
  readonly reference: ImageReference;
  /** The reference as a string, for messages. */
  readonly name: string;
  readonly maxManifestSize: number;
  /** The endpoints that may do all of `needs`, in order; NotFound when none may. */
  endpoints(needs: readonly HostCapability[]): Promise<readonly RegistryHost[]>;
}

export function openRepository(session: Session, hosts: RegistryHosts, reference: ImageReference, maxManifestSize: number): Repository {
  let all: Promise<readonly RegistryHost[]> | undefined;
  const name = formatReference(reference);
  return {
    session,
    reference,
    name,
    maxManifestSize,
    async endpoints(needs) {
      all ??= hosts(reference.domain);
      const list = await all;
      const usable = list.filter((h) => needs.every((c) => h.capabilities.has(c)));
      if (usable.length === 0) {
        throw notFound(`${name}: no endpoint for ${reference.domain} may ${needs.join("+")} (check hosts.toml capabilities)`);
      }
      return usable;
    },
  };
}

/** Token scope for the repository: pull, or pull and push. */
export function repositoryScope(path: string, push: boolean): string {
  return `repository:${path}:${push ? "pull,push" : "pull"}`;
}
