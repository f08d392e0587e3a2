// containerd.services.diff.v1 requests -> core's ApplyOptions and DiffOptions.
import type { diffApi } from "@berth/api";
import type { ApplyOptions, DiffOptions } from "@berth/core";
import { toBinary } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";

/**
 * Apply options from a request. Each payload is handed on as the binary google.protobuf.Any it
 * came as (type URL and value), so a stream processor can decode it; `syncFs` is the request's
 * wish or the service's config forcing it, as containerd's `sync_fs`.
 */
export function applyOptionsFromWire(req: diffApi.ApplyRequest, forceSyncFs: boolean): ApplyOptions {
  const entries = Object.entries(req.payloads);
  const syncFs = req.syncFs || forceSyncFs;
  if (entries.length === 0) return { syncFs };
  return { syncFs, payloads: new Map(entries.map(([mediaType, any]) => [mediaType, toBinary(AnySchema, any)])) };
}

/**
 * Diff options from a request; empty strings mean "the differ's default". `source_date_epoch`
 * is not carried: core's DiffOptions has no field for it yet.
 */
export function diffOptionsFromWire(req: diffApi.DiffRequest): DiffOptions {
  return {
    ...(req.mediaType !== "" ? { mediaType: req.mediaType } : {}),
    ...(req.ref !== "" ? { ref: req.ref } : {}),
    ...(Object.keys(req.labels).length > 0 ? { labels: { ...req.labels } } : {}),
  };
}
