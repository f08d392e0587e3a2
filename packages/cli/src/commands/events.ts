import { eventPayloads, type AnyPayload } from "@berth/api";
import type { BerthClient } from "@berth/client";
import { fromBinary, toJsonString, type DescMessage } from "@bufbuild/protobuf";

// Every event payload Berth knows, to print events as JSON like ctr does.
const payloadTypes = new Map<string, DescMessage>();
for (const value of Object.values(eventPayloads) as unknown[]) {
  const desc = value as DescMessage;
  if (typeof value === "object" && value !== null && desc.kind === "message") payloadTypes.set(desc.typeName, desc);
}

/** `berth events [filter…]`: one line per event until interrupted. */
export async function eventsCommand(client: BerthClient, filters: string[], signal: AbortSignal, out: (text: string) => void): Promise<void> {
  for await (const e of client.subscribe(filters, signal)) {
    out(`${e.timestamp.toISOString()} ${e.namespace} ${e.topic} ${render(e.event)}\n`);
  }
}

function render(event: AnyPayload): string {
  const name = event.typeUrl.slice(event.typeUrl.lastIndexOf("/") + 1);
  const desc = payloadTypes.get(name);
  if (!desc) return `${event.typeUrl} (${event.value.length} bytes)`;
  return toJsonString(desc, fromBinary(desc, event.value));
}

