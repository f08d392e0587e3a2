import { criApi } from "@berth/api";
import { invalidArgument, type TypedValue } from "@berth/core";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { ContainerRecord } from "./container-record.js";

/** The extension's type: Berth's own JSON, since containerd's CRI metadata is a Go struct. */
const TYPE_URL = "berth.cri.v1.ContainerMetadata";

/** A container's unchanging CRI record (the status lives in a file), as a metadata extension. */
export function packContainerMetadata(r: Omit<ContainerRecord, "status">): TypedValue {
  const json = {
    id: r.id,
    sandboxId: r.sandboxId,
    name: r.name,
    config: Buffer.from(toBinary(criApi.ContainerConfigSchema, r.config)).toString("base64"),
    imageName: r.imageName,
    imageId: r.imageId,
    logPath: r.logPath,
    runtimeHandler: r.runtimeHandler,
    stopSignal: r.stopSignal,
    snapshotter: r.snapshotter,
  };
  return { typeUrl: TYPE_URL, value: Buffer.from(JSON.stringify(json)) };
}

export function unpackContainerMetadata(v: TypedValue): Omit<ContainerRecord, "status"> {
  if (!v.typeUrl.endsWith(TYPE_URL)) throw invalidArgument(`cri: container metadata has type ${v.typeUrl}`);
  const j = JSON.parse(Buffer.from(v.value).toString("utf8")) as Record<string, unknown>;
  const str = (k: string) => String(j[k] ?? "");
  return {
    id: str("id"),
    sandboxId: str("sandboxId"),
    name: str("name"),
    config: fromBinary(criApi.ContainerConfigSchema, Buffer.from(str("config"), "base64")),
    imageName: str("imageName"),
    imageId: str("imageId"),
    logPath: str("logPath"),
    runtimeHandler: str("runtimeHandler"),
    stopSignal: Number(j["stopSignal"] ?? 15),
    snapshotter: str("snapshotter"),
  };
}
