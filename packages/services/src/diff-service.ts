import { diffApi } from "@berth/api";
import { bindService, isNotImplemented, notImplemented, type Differ, type GrpcService } from "@berth/core";
import { applyOptionsFromWire, diffOptionsFromWire } from "./convert-diff.js";
import { descriptorFromWire, descriptorToWire, mountsFromWire } from "@berth/wire";
import { opContext, required } from "./edge.js";

export interface DiffServiceOptions {
  /** Sync the filesystem after every Apply, whatever the request says (containerd's `sync_fs`). */
  readonly syncFs?: boolean;
}

/**
 * Asks each differ in order until one does not answer NotImplemented, as containerd's diff
 * service walks its configured `default` list: every differ must give the same result, so the
 * order only prefers the faster ones.
 */
async function firstImplemented<T>(differs: readonly Differ[], call: (differ: Differ) => Promise<T>): Promise<T> {
  let last: unknown = notImplemented("no differ is configured");
  for (const differ of differs) {
    try {
      return await call(differ);
    } catch (err) {
      if (!isNotImplemented(err)) throw err;
      last = err;
    }
  }
  throw last;
}

/**
 * containerd.services.diff.v1.Diff over `differs`, in order of preference. Apply unpacks a
 * layer from content onto mounts; Diff writes the difference of two mount sets to content.
 * Both work in the request's namespace (content is namespaced) and under its lease.
 */
export function createDiffService(differs: readonly Differ[], opts: DiffServiceOptions = {}): GrpcService {
  return {
    bindings: [
      bindService(diffApi.Diff, {
        async apply(req, ctx) {
          const op = opContext(ctx);
          const layer = descriptorFromWire(required(req.diff, "diff"));
          const mounts = mountsFromWire(req.mounts);
          const options = applyOptionsFromWire(req, opts.syncFs ?? false);
          const applied = await firstImplemented(differs, (d) => d.apply(op, layer, mounts, options));
          return { applied: descriptorToWire(applied) };
        },

        // source_date_epoch is not honoured yet (see convert-diff.ts).
        async diff(req, ctx) {
          const op = opContext(ctx);
          const left = mountsFromWire(req.left);
          const right = mountsFromWire(req.right);
          const desc = await firstImplemented(differs, (d) => d.compare(op, left, right, diffOptionsFromWire(req)));
          return { diff: descriptorToWire(desc) };
        },
      }),
    ],
  };
}
