// The ctr scenario over the in-memory stores of ./fakes.ts: checks the services' wire
// behaviour with Debian's ctr independently of the real stores.
import { MetadataPlugin, definePlugin } from "@berth/core";
import { describeCtrScenario } from "./ctr-scenario.js";
import { MemoryMetadata } from "./fakes.js";

const memoryMetadata = definePlugin({ type: MetadataPlugin, id: "memory", init: () => new MemoryMetadata() });

describeCtrScenario("ctr against the services over in-memory stores", {
  storePlugins: async () => [memoryMetadata],
  blobSize: 16 << 20,
});
