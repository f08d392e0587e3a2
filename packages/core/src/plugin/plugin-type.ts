/**
 * A plugin type: containerd's versioned URI (io.containerd.content.v1) carrying, in the type
 * system only, the interface that plugins of this type provide. Lookups through a token are
 * typed, so nobody casts an `any` from a registry.
 */
export interface PluginType<T> {
  readonly uri: string;
  /** Phantom: never set; lets TypeScript carry T. */
  readonly __instance?: T;
}

export function pluginType<T>(uri: string): PluginType<T> {
  return { uri };
}

export type InstanceOf<P> = P extends PluginType<infer T> ? T : never;
