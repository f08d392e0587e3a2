import { diffApi } from "@berth/api";
import type { Differ } from "@berth/core";
import { callOptions, remote, type ProxyConnection } from "./proxy-connection.js";
import { descriptorFromWire, descriptorToWire, mountsToWire } from "@berth/wire";
import { answered } from "./answered.js";

/**
 * A Differ served by another process as containerd.services.diff.v1.Diff. Apply's stream
 * processor payloads are not forwarded (Berth's differs use none).
 */
export function createProxyDiffer(conn: ProxyConnection, name: string): Differ {
  const client = conn.service(diffApi.Diff);
  const call = <T>(fn: () => Promise<T>) => remote(name, conn.target, fn);
  return {
    apply: (ctx, desc, mounts, opts) =>
      call(async () => {
        const res = await client.apply({ diff: descriptorToWire(desc), mounts: mountsToWire(mounts), syncFs: opts?.syncFs ?? false }, callOptions(ctx));
        return descriptorFromWire(answered(res.applied, "a descriptor"));
      }),
    compare: (ctx, lower, upper, opts) =>
      call(async () => {
        const res = await client.diff(
          {
            left: mountsToWire(lower),
            right: mountsToWire(upper),
            mediaType: opts?.mediaType ?? "",
            ref: opts?.ref ?? "",
            labels: { ...opts?.labels },
          },
          callOptions(ctx),
        );
        return descriptorFromWire(answered(res.diff, "a descriptor"));
      }),
  };
}

