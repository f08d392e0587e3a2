// Every registration exported here is loaded by berthd; export nothing else.
export { overlayPlugin } from "./plugin.js";
