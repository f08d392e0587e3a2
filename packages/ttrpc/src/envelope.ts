import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { rpcStatus, ttrpcWire } from "@berth/api";

/**
 * ttrpc wraps each call's payload in a Request or Response message. The payload is written
 * as the envelope's last field, by hand, so the (possibly large) payload bytes go to the
 * socket as they are instead of being copied into the envelope's encoding. Field order does
 * not matter to protobuf decoders.
 */

/** An envelope as the parts to write, and their total length. */
export interface EncodedEnvelope {
  readonly parts: readonly Uint8Array[];
  readonly length: number;
}

const REQUEST_PAYLOAD_TAG = (3 << 3) | 2; // ttrpc.Request.payload, length-delimited
const RESPONSE_PAYLOAD_TAG = (2 << 3) | 2; // ttrpc.Response.payload, length-delimited

export interface RequestHead {
  readonly service: string;
  readonly method: string;
  readonly timeoutNano: bigint;
  readonly metadata: readonly { key: string; value: string }[];
}

export function encodeRequest(head: RequestHead, payload: Uint8Array): EncodedEnvelope {
  const encodedHead = toBinary(
    ttrpcWire.RequestSchema,
    create(ttrpcWire.RequestSchema, {
      service: head.service,
      method: head.method,
      timeoutNano: head.timeoutNano,
      metadata: head.metadata.map(({ key, value }) => ({ key, value })),
    }),
  );
  return withPayload(encodedHead, REQUEST_PAYLOAD_TAG, payload);
}

export interface ResponseStatus {
  readonly code: number;
  readonly message: string;
}

export function encodeResponse(status: ResponseStatus, payload: Uint8Array): EncodedEnvelope {
  const head = toBinary(
    ttrpcWire.ResponseSchema,
    create(ttrpcWire.ResponseSchema, { status: create(rpcStatus.StatusSchema, { code: status.code, message: status.message }) }),
  );
  return withPayload(head, RESPONSE_PAYLOAD_TAG, payload);
}

export function decodeRequest(data: Uint8Array): ttrpcWire.Request {
  return fromBinary(ttrpcWire.RequestSchema, data);
}

export function decodeResponse(data: Uint8Array): ttrpcWire.Response {
  return fromBinary(ttrpcWire.ResponseSchema, data);
}

/** An empty payload is left out, as proto3 leaves out empty bytes fields. */
function withPayload(head: Uint8Array, tag: number, payload: Uint8Array): EncodedEnvelope {
  if (payload.length === 0) return { parts: [head], length: head.length };
  const prefix = fieldPrefix(tag, payload.length);
  return { parts: [head, prefix, payload], length: head.length + prefix.length + payload.length };
}

function fieldPrefix(tag: number, length: number): Uint8Array {
  const bytes = [tag];
  let n = length;
  while (n >= 0x80) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Uint8Array.from(bytes);
}
