// Publishes one containerd event (a NamespaceCreate payload on /demo/hello) through Berth's
// client, for the demo: `ctr events` on the same socket prints it.
import { createClient } from "@berth/client";
import { eventPayloads, packAny } from "@berth/api";

const client = createClient({ address: process.argv[2], namespace: "default" });
await client.publish("/demo/hello", packAny(eventPayloads.NamespaceCreateSchema, { name: "demo", labels: { from: "berth" } }));
client.close();
