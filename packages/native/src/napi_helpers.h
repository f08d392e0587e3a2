// Small N-API helpers shared by the addon's C files.
#pragma once
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>

// Throws a plain Error with `message`; returns NULL for the caller to return.
static inline napi_value throw_message(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

// The bytes of a typed array of type `want` (its view, not the whole ArrayBuffer).
static inline bool typed_array_data(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  return napi_get_typedarray_info(env, value, &type, length, data, &buffer, &offset) == napi_ok && type == want;
}
