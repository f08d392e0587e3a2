// Small files created in one thread-pool job (file_batch.c).
#pragma once
#include <node_api.h>
#include <stdbool.h>

// Adds createFiles to `exports`.
bool register_file_batch(napi_env env, napi_value exports);
