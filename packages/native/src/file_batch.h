// Small files created in one thread-pool job (file_batch.c); listed in the module's function
// table in berth_native.c.
#pragma once
#include <node_api.h>

napi_value js_create_files(napi_env env, napi_callback_info info);
