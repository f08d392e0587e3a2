import { defaultSpec } from "./default-spec.js";
import type { Spec } from "./runtime-spec.js";
import { applySpecOpts, type SpecContext, type SpecOpt } from "./spec-opt.js";

/** containerd's default spec for `namespace`/`id` with `opts` applied in order. */
export async function generateSpec(namespace: string, id: string, ...opts: SpecOpt[]): Promise<Spec> {
  return generateSpecFor({ namespace, id }, ...opts);
}

/** As generateSpec, with the whole context: the rootfs to read users from, an AbortSignal. */
export async function generateSpecFor(ctx: SpecContext, ...opts: SpecOpt[]): Promise<Spec> {
  return applySpecOpts(defaultSpec(ctx.namespace, ctx.id), ctx, opts);
}
