#!/usr/bin/env node
import { enableCompileCache } from "node:module";

// Most of berth's start-up is V8 compiling the client's modules (gRPC, the API's
// descriptors); ctr, a Go binary, starts in ~10 ms. Node's on-disk code cache (in the OS temp
// dir, keyed by file content) roughly halves that from the second run on. It only covers
// modules loaded after it is enabled, hence the dynamic import.
enableCompileCache();
await import("../cli-process.js");
