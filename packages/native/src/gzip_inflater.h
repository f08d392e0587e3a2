// Gzip decompression into caller-owned buffers (gzip_inflater.c).
#pragma once
#include <node_api.h>
#include <stdbool.h>

// Adds gzipInflaterNew, gzipInflaterStep and gzipInflaterClose to `exports`.
bool register_gzip_inflater(napi_env env, napi_value exports);
