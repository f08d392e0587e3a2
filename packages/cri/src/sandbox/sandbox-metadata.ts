import { criApi } from "@berth/api";
import { internal, type TypedValue } from "@berth/core";
import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import type { SandboxNamespaces } from "../runtime/sandbox-controller.js";
import type { PodSandbox } from "./pod-sandbox.js";

/** The type of the sandbox metadata extension on the pause container's record (JSON inside). */
export const SANDBOX_METADATA_TYPE = "berth.cri.v1.SandboxMetadata";

/** What a pod is, saved on its pause container's record so a restarted daemon can rebuild it. */
export interface SandboxMetadata {
  readonly id: string;
  readonly name: string;
  readonly config: criApi.PodSandboxConfig;
  readonly runtimeHandler: string;
  readonly image: string;
  readonly namespaces: SandboxNamespaces;
  readonly cgroupParent: string;
  readonly netnsPath: string;
  readonly ips: readonly string[];
}

export function packSandboxMetadata(pod: PodSandbox): TypedValue {
  const json = {
    id: pod.id,
    name: pod.name,
    config: toJson(criApi.PodSandboxConfigSchema, pod.config),
    runtimeHandler: pod.runtimeHandler,
    image: pod.image,
    namespaces: pod.namespaces,
    cgroupParent: pod.cgroupParent,
    netnsPath: pod.netnsPath,
    ips: pod.ips,
  };
  return { typeUrl: SANDBOX_METADATA_TYPE, value: Buffer.from(JSON.stringify(json)) };
}

export function unpackSandboxMetadata(any: TypedValue): SandboxMetadata {
  if (any.typeUrl !== SANDBOX_METADATA_TYPE) throw internal(`sandbox metadata has type ${any.typeUrl}, not ${SANDBOX_METADATA_TYPE}`);
  const json = JSON.parse(Buffer.from(any.value).toString("utf8")) as Omit<SandboxMetadata, "config"> & { config: JsonValue };
  return { ...json, config: fromJson(criApi.PodSandboxConfigSchema, json.config) };
}
