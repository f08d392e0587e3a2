import { transferApi, transferTypes, unpackAny, type AnyPayload } from "@berth/api";
import { bindService, notImplemented, requireNamespace, type CallContext, type GrpcService } from "@berth/core";
import { progressSender, type ProgressSender } from "./progress-stream.js";
import type { TransferServiceDeps } from "./service/deps.js";
import { exportToStream } from "./service/export-to-stream.js";
import { importFromStream } from "./service/import-from-stream.js";
import { pullFromRegistry } from "./service/pull-from-registry.js";
import { pushToRegistry } from "./service/push-to-registry.js";

export type { TransferServiceDeps } from "./service/deps.js";

type Handler = (deps: TransferServiceDeps, call: CallContext, source: AnyPayload, destination: AnyPayload, progress: ProgressSender | undefined) => Promise<void> | undefined;

/**
 * What moves where, told by the Any types of source and destination, as containerd's transfer
 * service pairs them. Each handler answers undefined when the pair is not its own.
 */
const HANDLERS: readonly Handler[] = [
  (deps, call, src, dst, progress) => {
    const source = unpackAny(transferTypes.OCIRegistrySchema, src);
    const destination = unpackAny(transferTypes.ImageStoreSchema, dst);
    return source && destination && pullFromRegistry(deps, call, source, destination, progress);
  },
  (deps, call, src, dst, progress) => {
    const source = unpackAny(transferTypes.ImageStoreSchema, src);
    const destination = unpackAny(transferTypes.OCIRegistrySchema, dst);
    return source && destination && pushToRegistry(deps, call, source, destination, progress);
  },
  (deps, call, src, dst, progress) => {
    const source = unpackAny(transferTypes.ImageImportStreamSchema, src);
    const destination = unpackAny(transferTypes.ImageStoreSchema, dst);
    return source && destination && importFromStream(deps, call, source, destination, progress);
  },
  (deps, call, src, dst, progress) => {
    const source = unpackAny(transferTypes.ImageStoreSchema, src);
    const destination = unpackAny(transferTypes.ImageExportStreamSchema, dst);
    return source && destination && exportToStream(deps, call, source, destination, progress);
  },
];

/**
 * containerd.services.transfer.v1.Transfer. Berth serves registry → image store (pull), image
 * store → registry (push), import stream → image store and image store → export stream; any
 * other pair is NotImplemented. Progress goes to the client's progress stream when it names one.
 */
export function createTransferService(deps: TransferServiceDeps): GrpcService {
  return {
    bindings: [
      bindService(transferApi.Transfer, {
        async transfer(req, call) {
          const { source, destination } = req;
          if (source !== undefined && destination !== undefined) {
            const streamId = req.options?.progressStream ?? "";
            const progress = streamId === "" ? undefined : progressSender(deps.streams.get(requireNamespace(call), streamId));
            try {
              for (const handler of HANDLERS) {
                const running = handler(deps, call, source, destination, progress);
                if (running !== undefined) {
                  await running;
                  return {};
                }
              }
            } finally {
              await progress?.flush();
            }
          }
          throw notImplemented(`transfer from ${source?.typeUrl ?? "nothing"} to ${destination?.typeUrl ?? "nothing"} is not supported`);
        },
      }),
    ],
  };
}
