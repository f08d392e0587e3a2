/**
 * A plugin type: containerd's versioned URI (io.containerd.content.v1) carrying, in the type
 * system only, the interface that plugins of this type provide. Lookups through a token are
 * typed, so nobody casts an `any` from a registry.
 */
export interface PluginType<T> {
  readonly uri: string;
  /** In `requires`: load after plugins of this type, but do not fail when all of them failed. */
  readonly optional?: boolean;
  /** Phantom: never set; lets TypeScript carry T. */
  readonly __instance?: T;
}

export function pluginType<T>(uri: string): PluginType<T> {
  return { uri };
}

export type InstanceOf<P> = P extends PluginType<infer T> ? T : never;

/**
 * Marks a requirement as optional: the plugin still loads after every plugin of `type`, but
 * is not blocked when they all failed (metadata works with whichever snapshotters loaded).
 */
export function optional<T>(type: PluginType<T>): PluginType<T> {
  return { ...type, optional: true };
}
