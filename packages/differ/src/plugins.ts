// Every registration exported here is loaded by berthd; export nothing else.
export { walkingDifferPlugin } from "./plugin.js";
