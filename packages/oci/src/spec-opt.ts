import type { Spec } from "./runtime-spec.js";

/** What a spec option may need besides the spec: who the container is and where its files are. */
export interface SpecContext {
  /** The containerd namespace the container lives in (cgroups path, labels). */
  readonly namespace: string;
  /** The container's ID. */
  readonly id: string;
  /**
   * A host directory holding the container's root filesystem (a read-only mount of its snapshot),
   * for options that read it, such as user lookups in /etc/passwd. Without it they fall back to
   * `spec.root.path` when that is absolute.
   */
  readonly rootfs?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * One change to a spec, in containerd's SpecOpts manner: options are applied in order, each on the
 * result of the ones before, so a later option wins.
 */
export type SpecOpt = (spec: Spec, ctx: SpecContext) => void | Promise<void>;

/** Applies `opts` to `spec` in order, stopping at the first that fails. */
export async function applySpecOpts(spec: Spec, ctx: SpecContext, opts: Iterable<SpecOpt>): Promise<Spec> {
  for (const opt of opts) {
    ctx.signal?.throwIfAborted();
    await opt(spec, ctx);
  }
  return spec;
}

/** Several options as one, applied in order. */
export function composeSpecOpts(...opts: SpecOpt[]): SpecOpt {
  return async (spec, ctx) => {
    await applySpecOpts(spec, ctx, opts);
  };
}
