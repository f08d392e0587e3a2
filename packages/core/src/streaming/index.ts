export type { Stream, StreamManager } from "./stream-manager.js";
