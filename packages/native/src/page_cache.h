// Written pages dropped from the page cache on the thread pool (page_cache.c); listed in the
// module's function table in berth_native.c.
#pragma once
#include <node_api.h>

napi_value js_drop_written_pages(napi_env env, napi_callback_info info);
