import { STATUS_CODES } from "node:http";
import {
  conflict,
  invalidArgument,
  notFound,
  notImplemented,
  outOfRange,
  permissionDenied,
  resourceExhausted,
  unauthenticated,
  unavailable,
  unknown,
  type BerthError,
} from "@berth/core";
import type { HttpResponse } from "../http/http-client.js";

/** The distribution spec's error body: {"errors":[{"code","message","detail"}]}. */
interface RegistryErrorBody {
  errors?: Array<{ code?: unknown; message?: unknown; detail?: unknown }>;
}

/**
 * Turns an unexpected response into a BerthError of the matching class, with the registry's
 * own error codes and messages when it sent them. Reads (and so consumes) the body.
 */
export async function responseError(res: HttpResponse, what: string): Promise<BerthError> {
  const body = await res.text(8 * 1024).catch(() => "");
  const message = `${what}: ${res.status} ${statusText(res.status)}${describeBody(body)}`;
  return errorForStatus(res.status, message);
}

export function errorForStatus(status: number, message: string): BerthError {
  if (status === 401) return unauthenticated(message);
  if (status === 403) return permissionDenied(message);
  if (status === 404) return notFound(message);
  if (status === 405) return notImplemented(message);
  if (status === 409) return conflict(message);
  if (status === 416) return outOfRange(message);
  if (status === 429) return resourceExhausted(message);
  if (status === 400 || status === 411 || status === 413 || status === 414) return invalidArgument(message);
  if (status >= 500) return unavailable(message);
  return unknown(message);
}

function describeBody(body: string): string {
  const text = body.trim();
  if (text === "") return "";
  try {
    const parsed = JSON.parse(text) as RegistryErrorBody;
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) {
      const parts = parsed.errors.map((e) => {
        const code = typeof e.code === "string" ? e.code : "";
        const msg = typeof e.message === "string" ? e.message : "";
        const detail = e.detail === undefined || e.detail === null ? "" : ` (${JSON.stringify(e.detail).slice(0, 200)})`;
        return [code, msg].filter(Boolean).join(": ") + detail;
      });
      return ` — ${parts.join("; ")}`;
    }
  } catch {
    // Not the spec's JSON: show the start of whatever it was.
  }
  return ` — ${text.slice(0, 200).replace(/\s+/g, " ")}`;
}

function statusText(status: number): string {
  return STATUS_CODES[status] ?? "";
}
