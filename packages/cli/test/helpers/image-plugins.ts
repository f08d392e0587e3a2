import { localContentPlugin } from "@berth/content-local";
import { walkingDifferPlugin } from "@berth/differ";
import { eventsGrpcPlugin, exchangePlugin } from "@berth/events";
import { lmdbMetadataPlugin } from "@berth/metadata-lmdb";
import { servicePlugins } from "@berth/services";
import { overlayPlugin } from "@berth/snapshot-overlay";
import { streamManagerPlugin, streamingGrpcPlugin } from "@berth/streaming";
import { transferGrpcPlugin } from "@berth/transfer";

/** What the image commands need of berthd: storage, overlayfs, the differ, events, streams, Transfer. */
export const imagePlugins = [
  localContentPlugin,
  lmdbMetadataPlugin,
  overlayPlugin,
  walkingDifferPlugin,
  exchangePlugin,
  eventsGrpcPlugin,
  streamManagerPlugin,
  streamingGrpcPlugin,
  transferGrpcPlugin,
  ...servicePlugins,
];
