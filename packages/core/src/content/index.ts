export type {
  OpContext,
  Descriptor,
  ContentInfo,
  IngestStatus,
  WriterOptions,
  ContentWriter,
  ReadOptions,
  ContentStore,
} from "./content-store.js";
