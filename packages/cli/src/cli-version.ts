export const CLI_VERSION = "v0.1.0+berth";
