import { fromBinary } from "@bufbuild/protobuf";
import { runcOptions } from "@berth/api";
import { invalidArgument } from "@berth/core";
import { emptyRuncOptions, type RuncOptions } from "./runc-options.js";

/** A google.protobuf.Any as the shim receives it. */
export interface AnyMessage {
  readonly typeUrl: string;
  readonly value: Uint8Array;
}

/**
 * Runtime options from a Create request (or `start`'s stdin). runc's own options are read;
 * other kinds (CRI's runtimeoptions.v1.Options, a config path) carry nothing for this shim and
 * leave the defaults.
 */
export function decodeRuncOptions(any: AnyMessage | undefined): RuncOptions {
  if (!any || any.typeUrl === "") return emptyRuncOptions;
  const name = any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1);
  if (name !== runcOptions.OptionsSchema.typeName) return emptyRuncOptions;
  try {
    const o = fromBinary(runcOptions.OptionsSchema, any.value);
    return {
      noPivotRoot: o.noPivotRoot,
      noNewKeyring: o.noNewKeyring,
      shimCgroup: o.shimCgroup,
      ioUid: o.ioUid,
      ioGid: o.ioGid,
      binaryName: o.binaryName,
      root: o.root,
      systemdCgroup: o.systemdCgroup,
      criuImagePath: o.criuImagePath,
      criuWorkPath: o.criuWorkPath,
    };
  } catch (err) {
    throw invalidArgument(`runtime options: ${(err as Error).message}`, err);
  }
}
