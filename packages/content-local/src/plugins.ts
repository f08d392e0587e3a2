// Every registration exported here is loaded by berthd; export nothing else.
export { localContentPlugin } from "./plugin.js";
