export type {
  CollectOptions,
  CollectionStats,
  GarbageCollector,
  GcMetrics,
  GcScheduler,
  MetadataCollector,
  RemovedBackendData,
  RemovedObjects,
  RemovedRecords,
} from "./garbage-collector.js";
