export type { ApplyOptions, DiffOptions, Differ } from "./differ.js";
