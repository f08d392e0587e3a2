import { invalidArgument } from "@berth/core";

/** Past lmdb's key limit (1978 bytes, framing included) a key could not be stored at all. */
export const MAX_KEY_BYTES = 1900;
/** containerd's limit for one label, key and value together. */
export const MAX_LABEL_BYTES = 4096;

/** A snapshot key or committed name: non-empty, storable. `what` names it in the error. */
export function validateKey(key: string, what: string): void {
  if (key === "") throw invalidArgument(`${what} must not be empty`);
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) {
    throw invalidArgument(`${what} is longer than ${MAX_KEY_BYTES} bytes`);
  }
}

/** True for a key that was never storable: lookups answer "absent" instead of an lmdb error. */
export const unstorable = (key: string): boolean => Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES;

export function validateLabels(labels: Readonly<Record<string, string>>): void {
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== "string") throw invalidArgument(`label ${JSON.stringify(k)}: value must be a string`);
    if (Buffer.byteLength(k, "utf8") + Buffer.byteLength(v, "utf8") > MAX_LABEL_BYTES) {
      throw invalidArgument(`label ${JSON.stringify(k)}: key and value exceed ${MAX_LABEL_BYTES} bytes`);
    }
  }
}
