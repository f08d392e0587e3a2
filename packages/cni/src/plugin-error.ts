import {
  canceled,
  failedPrecondition,
  internal,
  invalidArgument,
  notFound,
  unavailable,
  unknown,
  type BerthError,
} from "@berth/core";
import { isObject } from "./network-config.js";

/** The error a CNI plugin printed: the spec's `{code, msg, details}`. */
export interface CniPluginFailure {
  readonly code: number;
  readonly msg: string;
  readonly details?: string;
}

/** Where a failure happened, for a message that names the plugin. */
export interface PluginCall {
  readonly pluginType: string;
  readonly command: string;
  readonly network: string;
  readonly ifName: string;
}

/** Reads `{code, msg, details}` from a failed plugin's stdout, if that is what it printed. */
export function parsePluginFailure(stdout: string): CniPluginFailure | undefined {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  if (!isObject(value) || typeof value.code !== "number") return undefined;
  return {
    code: value.code,
    msg: typeof value.msg === "string" ? value.msg : "",
    ...(typeof value.details === "string" && value.details !== "" ? { details: value.details } : {}),
  };
}

/** Turns a plugin's failure into a Berth error whose class follows the spec's well-known codes. */
export function pluginError(call: PluginCall, failure: CniPluginFailure): BerthError {
  const detail = failure.details ? `: ${failure.details}` : "";
  const message = `${describe(call)} failed (code ${failure.code}): ${failure.msg}${detail}`;
  return errorForCode(failure.code)(message, failure);
}

export function describe(call: PluginCall): string {
  return `cni plugin "${call.pluginType}" ${call.command} (network "${call.network}", interface ${call.ifName})`;
}

export function pluginCanceled(call: PluginCall, cause: unknown): BerthError {
  return canceled(`${describe(call)} canceled`, cause);
}

function errorForCode(code: number): (message: string, cause?: unknown) => BerthError {
  switch (code) {
    case 1: // incompatible CNI version
      return failedPrecondition;
    case 2: // unsupported field in the network config
    case 4: // invalid necessary environment variables
    case 6: // failed to decode content
    case 7: // invalid network config
      return invalidArgument;
    case 3: // container unknown or gone
      return notFound;
    case 5: // I/O failure
      return internal;
    case 11: // try again later
      return unavailable;
    default:
      return unknown;
  }
}
