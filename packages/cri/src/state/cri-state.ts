import { createIdIndex, type IdIndex } from "./id-index.js";
import { createNameRegistry, type NameRegistry } from "./name-registry.js";

/** What UpdateRuntimeConfig hands down; the network side reads it when it sets pods up. */
export interface RuntimeSettings {
  podCidr: string;
}

/**
 * The in-memory state the runtime side shares: names reserved while pods and containers
 * exist, and their IDs for prefix lookups. One per CRI plugin instance (no module globals), and
 * rebuilt from metadata by each part's recovery after a restart.
 */
export interface CriState {
  readonly sandboxNames: NameRegistry;
  readonly containerNames: NameRegistry;
  readonly sandboxIds: IdIndex;
  readonly containerIds: IdIndex;
  readonly settings: RuntimeSettings;
}

export function createCriState(): CriState {
  return {
    sandboxNames: createNameRegistry("sandbox"),
    containerNames: createNameRegistry("container"),
    sandboxIds: createIdIndex("sandbox"),
    containerIds: createIdIndex("container"),
    settings: { podCidr: "" },
  };
}
