// Wire scalars that have no single obvious mapping onto core's records.
import { invalidArgument } from "@berth/core";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";

/** An int64 from the wire as a number; InvalidArgument beyond what a number holds exactly. */
export function int64ToNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw invalidArgument(`${field} ${value} is out of range`);
  }
  return Number(value);
}

const EPOCH = new Date(0);

/** A record's time from the wire; an unset timestamp is the epoch, as Go's zero time.Time is. */
export const dateFromWire = (ts: Timestamp | undefined): Date => (ts ? timestampDate(ts) : EPOCH);

/** An update mask as containerd's clients send it: none means "everything updatable". */
export const updateMaskToWire = (fieldpaths: readonly string[]): { paths: string[] } | undefined =>
  fieldpaths.length > 0 ? { paths: [...fieldpaths] } : undefined;
