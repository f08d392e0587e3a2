/** Berth's release, reported by berthd's version service and by both command-line tools. */
export const BERTH_VERSION = "v0.1.0+berth";
