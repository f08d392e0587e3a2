// Gzip decompression into caller-owned buffers (gzip_inflater.c); listed in the module's
// function table in berth_native.c.
#pragma once
#include <node_api.h>

napi_value js_gzip_inflater_backends(napi_env env, napi_callback_info info);
napi_value js_gzip_inflater_new(napi_env env, napi_callback_info info);
napi_value js_gzip_inflater_step(napi_env env, napi_callback_info info);
napi_value js_gzip_inflater_close(napi_env env, napi_callback_info info);
napi_value js_gzip_inflater_sha256(napi_env env, napi_callback_info info);
