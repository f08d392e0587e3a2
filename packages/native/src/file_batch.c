// Many small files (and symlinks) created in one thread-pool job: open(O_CREAT|O_EXCL), fchown,
// write, fchmod, futimens, close for each file; symlink, lchown, utimensat for each link. Applying a layer of thousands of small files spent most
// of its main thread in exactly these syscalls; batched, they run beside the tar parsing
// instead, at one hand-off per batch rather than one per call.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "file_batch.h"
#include "napi_helpers.h"

// Per file, in the Float64Array `meta`: where its NUL-terminated path starts in `paths`, where
// its data starts in `data` and how long it is, then mode, uid, gid, flags, atime, mtime (s).
enum { F_PATH, F_DATA, F_LENGTH, F_MODE, F_UID, F_GID, F_FLAGS, F_ATIME, F_MTIME, FIELDS };
enum { FLAG_CHOWN = 1, FLAG_CHMOD = 2, FLAG_SYMLINK = 4 };

struct batch_job {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref refs[4]; // the four arrays, alive until the job completes
  const char *paths;
  size_t paths_len;
  const double *meta;
  const uint8_t *data;
  size_t data_len;
  int32_t *results; // per file: 0, or the failing call's -errno
  size_t count;
};

// A symlink whose target is the data, then its owner and times (never following it).
static int create_symlink(const char *path, const uint8_t *target, size_t length, const double *m, int flags) {
  char link[PATH_MAX];
  if (length >= sizeof link) return ENAMETOOLONG;
  if (memchr(target, 0, length) != NULL) return EINVAL;
  memcpy(link, target, length);
  link[length] = '\0';
  if (symlink(link, path) != 0) return errno;
  if ((flags & FLAG_CHOWN) && fchownat(AT_FDCWD, path, (uid_t)m[F_UID], (gid_t)m[F_GID], AT_SYMLINK_NOFOLLOW) != 0) return errno;
  struct timespec times[2] = {{.tv_sec = (time_t)m[F_ATIME]}, {.tv_sec = (time_t)m[F_MTIME]}};
  if (utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) != 0) return errno;
  return 0;
}

static int create_one(const struct batch_job *job, const double *m) {
  size_t path_at = (size_t)m[F_PATH], data_at = (size_t)m[F_DATA], length = (size_t)m[F_LENGTH];
  if (path_at >= job->paths_len || data_at > job->data_len || length > job->data_len - data_at) return EINVAL;
  mode_t mode = (mode_t)m[F_MODE];
  int flags = (int)m[F_FLAGS];
  if (flags & FLAG_SYMLINK) return create_symlink(job->paths + path_at, job->data + data_at, length, m, flags);
  int fd = open(job->paths + path_at, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
  if (fd < 0) return errno;
  int err = 0;
  if ((flags & FLAG_CHOWN) && fchown(fd, (uid_t)m[F_UID], (gid_t)m[F_GID]) != 0) err = errno;
  for (size_t done = 0; err == 0 && done < length;) {
    ssize_t n = write(fd, job->data + data_at + done, length - done);
    if (n < 0 && errno != EINTR) err = errno;
    if (n > 0) done += (size_t)n;
  }
  // After the chown, which clears setuid/setgid, and the data.
  if (err == 0 && (flags & FLAG_CHMOD) && fchmod(fd, mode & 07777) != 0) err = errno;
  struct timespec times[2] = {{.tv_sec = (time_t)m[F_ATIME]}, {.tv_sec = (time_t)m[F_MTIME]}};
  if (err == 0 && futimens(fd, times) != 0) err = errno;
  if (close(fd) != 0 && err == 0) err = errno;
  return err;
}

static void batch_execute(napi_env env, void *data) {
  (void)env;
  struct batch_job *job = data;
  for (size_t i = 0; i < job->count; i++) job->results[i] = -create_one(job, job->meta + i * FIELDS);
}

static void batch_complete(napi_env env, napi_status status, void *data) {
  struct batch_job *job = data;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  if (status == napi_ok) {
    napi_resolve_deferred(env, job->deferred, undefined);
  } else {
    napi_value message, error;
    napi_create_string_utf8(env, "createFiles: job cancelled", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  for (int i = 0; i < 4; i++) napi_delete_reference(env, job->refs[i]);
  napi_delete_async_work(env, job->work);
  free(job);
}

// createFiles(paths: Uint8Array, meta: Float64Array, data: Uint8Array, results: Int32Array)
//   -> Promise<void>, results filled in. The arrays must stay untouched until it settles.
napi_value js_create_files(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 4) return throw_message(env, "createFiles: paths, meta, data and results are required");
  struct batch_job *job = calloc(1, sizeof *job);
  if (job == NULL) return throw_message(env, "createFiles: out of memory");
  void *paths, *meta, *bytes, *results;
  size_t meta_len, results_len;
  if (!typed_array_data(env, argv[0], napi_uint8_array, &paths, &job->paths_len) ||
      !typed_array_data(env, argv[1], napi_float64_array, &meta, &meta_len) ||
      !typed_array_data(env, argv[2], napi_uint8_array, &bytes, &job->data_len) ||
      !typed_array_data(env, argv[3], napi_int32_array, &results, &results_len) || meta_len % FIELDS != 0 ||
      results_len < meta_len / FIELDS || (job->paths_len > 0 && ((const char *)paths)[job->paths_len - 1] != '\0')) {
    free(job);
    return throw_message(env, "createFiles: expects Uint8Array paths (NUL-terminated), Float64Array meta, Uint8Array data, Int32Array results");
  }
  job->paths = paths;
  job->meta = meta;
  job->data = bytes;
  job->results = results;
  job->count = meta_len / FIELDS;
  napi_value promise = queue_promised_work(env, "berth:createFiles", batch_execute, batch_complete, job, &job->deferred, &job->work);
  if (promise == NULL) {
    free(job);
    return NULL;
  }
  for (int i = 0; i < 4; i++) napi_create_reference(env, argv[i], 1, &job->refs[i]);
  return promise;
}
