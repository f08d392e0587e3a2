// Every registration exported here is loaded by berthd; export nothing else.
export { btrfsPlugin } from "./plugin.js";
