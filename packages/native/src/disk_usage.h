// A tree's disk usage walked on the thread pool (disk_usage.c); listed in the module's function
// table in berth_native.c.
#pragma once
#include <node_api.h>

napi_value js_disk_usage(napi_env env, napi_callback_info info);
