// Written pages handed back to the kernel: a range of a file is written out (sync_file_range)
// and then dropped from the page cache (posix_fadvise DONTNEED), on libuv's thread pool. For
// data written once and rarely read again, such as a content blob behind an unpack, the freed
// pages are reused by the next writes instead of new memory being taken.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>

#include "napi_helpers.h"
#include "page_cache.h"

struct drop_job {
  napi_async_work work;
  napi_deferred deferred;
  int fd;
  off_t offset;
  off_t length;
  int result; // 0, or the failing call's -errno
};

static void drop_execute(napi_env env, void *data) {
  (void)env;
  struct drop_job *job = data;
  unsigned flags = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
  if (sync_file_range(job->fd, job->offset, job->length, flags) != 0) {
    job->result = -errno;
    return;
  }
  // Only clean pages are dropped; the write-out above makes this range's pages clean.
  job->result = -posix_fadvise(job->fd, job->offset, job->length, POSIX_FADV_DONTNEED);
}

static void drop_complete(napi_env env, napi_status status, void *data) {
  struct drop_job *job = data;
  napi_value result;
  napi_create_int32(env, status == napi_ok ? job->result : -ECANCELED, &result);
  napi_resolve_deferred(env, job->deferred, result);
  napi_delete_async_work(env, job->work);
  free(job);
}

// dropWrittenPages(fd: number, offset: number, length: number) -> Promise<number>: 0 or -errno.
// The caller keeps fd open until it settles.
napi_value js_drop_written_pages(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int32_t fd;
  int64_t offset, length;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int64(env, argv[1], &offset) != napi_ok ||
      napi_get_value_int64(env, argv[2], &length) != napi_ok || fd < 0 || offset < 0 || length < 0) {
    return throw_message(env, "dropWrittenPages: expects fd, offset and length, all non-negative integers");
  }
  struct drop_job *job = calloc(1, sizeof *job);
  if (job == NULL) return throw_message(env, "dropWrittenPages: out of memory");
  job->fd = fd;
  job->offset = (off_t)offset;
  job->length = (off_t)length;
  napi_value promise = queue_promised_work(env, "berth:dropWrittenPages", drop_execute, drop_complete, job, &job->deferred, &job->work);
  if (promise == NULL) free(job);
  return promise;
}
