/** The example snapshotter, for tests and for authors to copy from. */
export { createCopySnapshotter } from "./copy-snapshotter.js";
