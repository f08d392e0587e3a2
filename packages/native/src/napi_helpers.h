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

// Queues `execute` on libuv's thread pool and then `complete` on the JS thread, both given
// `data`, and returns the promise `*deferred` settles (complete must settle it and delete
// `*work`). NULL with an exception pending when nothing could be queued: the caller frees `data`.
// Anything `complete` releases (references) is made after a success, in the same JS turn.
static inline napi_value queue_promised_work(napi_env env, const char *name, napi_async_execute_callback execute,
                                             napi_async_complete_callback complete, void *data, napi_deferred *deferred,
                                             napi_async_work *work) {
  napi_value promise, resource_name;
  if (napi_create_promise(env, deferred, &promise) != napi_ok) return NULL;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name);
  if (napi_create_async_work(env, NULL, resource_name, execute, complete, data, work) != napi_ok) {
    return throw_message(env, "could not make thread-pool work");
  }
  if (napi_queue_async_work(env, *work) != napi_ok) {
    napi_delete_async_work(env, *work);
    return throw_message(env, "could not queue thread-pool work");
  }
  return promise;
}
