export type {
  CollectOptions,
  CollectionStats,
  GarbageCollector,
  GcMetrics,
  GcScheduler,
  MetadataCollector,
  RemovedBackendData,
  RemovedRecords,
} from "./garbage-collector.js";
