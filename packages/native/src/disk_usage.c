// What a tree takes on disk (blocks × 512 and inodes, each hard-linked inode once, the root
// included), walked in one thread-pool job: fstatat on every entry relative to its open
// directory, and no JS objects per entry. A snapshot's usage
// is computed at commit, while other layers are applying; this keeps the walk off the event loop.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk_usage.h"
#include "napi_helpers.h"

// Inode numbers of files with several names, seen once: open addressing, grown at half full.
struct inode_set {
  uint64_t *slots; // 0 = empty (inode 0 does not exist)
  size_t capacity;
  size_t count;
};

// Adds `ino`; 1 if it was new, 0 if already there, -ENOMEM.
static int inode_set_add(struct inode_set *set, uint64_t ino) {
  if ((set->count + 1) * 2 > set->capacity) {
    size_t capacity = set->capacity == 0 ? 64 : set->capacity * 2;
    uint64_t *slots = calloc(capacity, sizeof *slots);
    if (slots == NULL) return -ENOMEM;
    for (size_t i = 0; i < set->capacity; i++) {
      if (set->slots[i] == 0) continue;
      size_t j = set->slots[i] * 0x9E3779B97F4A7C15ULL % capacity;
      while (slots[j] != 0) j = (j + 1) % capacity;
      slots[j] = set->slots[i];
    }
    free(set->slots);
    set->slots = slots;
    set->capacity = capacity;
  }
  size_t j = ino * 0x9E3779B97F4A7C15ULL % set->capacity;
  for (; set->slots[j] != 0; j = (j + 1) % set->capacity) {
    if (set->slots[j] == ino) return 0;
  }
  set->slots[j] = ino;
  set->count++;
  return 1;
}

struct usage_job {
  napi_async_work work;
  napi_deferred deferred;
  char *root;
  struct inode_set linked;
  double size;
  double inodes;
  int error; // errno of the first failure, 0 if none
  char *failed_path;
};

// Counts `st`; true when it is a directory to descend into.
static bool count(struct usage_job *job, const struct stat *st) {
  bool dir = S_ISDIR(st->st_mode);
  if (!dir && st->st_nlink > 1) {
    int added = inode_set_add(&job->linked, (uint64_t)st->st_ino);
    if (added < 0) {
      job->error = -added;
      return false;
    }
    if (added == 0) return false;
  }
  job->inodes++;
  job->size += (double)st->st_blocks * 512;
  return dir;
}

static void fail(struct usage_job *job, int error, const char *path) {
  job->error = error;
  job->failed_path = strdup(path);
}

// Directories still to read, as full paths: iterative, so no descriptor is held per level of
// depth (a layer may nest thousands of directories).
struct dir_stack {
  char **paths;
  size_t count;
  size_t capacity;
};

static bool dir_stack_push(struct dir_stack *stack, char *path) {
  if (stack->count == stack->capacity) {
    size_t capacity = stack->capacity == 0 ? 64 : stack->capacity * 2;
    char **paths = realloc(stack->paths, capacity * sizeof *paths);
    if (paths == NULL) return false;
    stack->paths = paths;
    stack->capacity = capacity;
  }
  stack->paths[stack->count++] = path;
  return true;
}

// Counts every entry of the directory `path`, queueing its subdirectories.
static void read_dir(struct usage_job *job, const char *path, struct dir_stack *pending) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *dir = fd < 0 ? NULL : fdopendir(fd);
  if (dir == NULL) {
    fail(job, errno, path);
    if (fd >= 0) close(fd);
    return;
  }
  size_t path_len = strlen(path);
  for (;;) {
    errno = 0;
    struct dirent *entry = readdir(dir);
    if (entry == NULL) {
      if (errno != 0) fail(job, errno, path);
      break;
    }
    const char *name = entry->d_name;
    if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
    struct stat st;
    if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      fail(job, errno, path);
      break;
    }
    if (!count(job, &st)) {
      if (job->error != 0) break;
      continue;
    }
    size_t name_len = strlen(name);
    char *child = malloc(path_len + 1 + name_len + 1);
    if (child == NULL || !dir_stack_push(pending, child)) {
      free(child);
      job->error = ENOMEM;
      break;
    }
    memcpy(child, path, path_len);
    child[path_len] = '/';
    memcpy(child + path_len + 1, name, name_len + 1);
  }
  closedir(dir);
}

static void usage_execute(napi_env env, void *data) {
  (void)env;
  struct usage_job *job = data;
  struct stat st;
  if (lstat(job->root, &st) != 0) {
    fail(job, errno, job->root);
    return;
  }
  if (!count(job, &st)) return;
  struct dir_stack pending = {0};
  char *top = strdup(job->root);
  if (top == NULL || !dir_stack_push(&pending, top)) {
    free(top);
    job->error = ENOMEM;
  }
  while (pending.count > 0) {
    char *path = pending.paths[--pending.count];
    if (job->error == 0) read_dir(job, path, &pending);
    free(path);
  }
  free(pending.paths);
}

static void usage_complete(napi_env env, napi_status status, void *data) {
  struct usage_job *job = data;
  napi_value result, value;
  napi_create_object(env, &result);
  int error = status == napi_ok ? job->error : ECANCELED;
  napi_create_int32(env, -error, &value);
  napi_set_named_property(env, result, "errno", value);
  if (error != 0 && job->failed_path != NULL) {
    napi_create_buffer_copy(env, strlen(job->failed_path), job->failed_path, NULL, &value);
    napi_set_named_property(env, result, "path", value);
  }
  napi_create_double(env, job->size, &value);
  napi_set_named_property(env, result, "size", value);
  napi_create_double(env, job->inodes, &value);
  napi_set_named_property(env, result, "inodes", value);
  napi_resolve_deferred(env, job->deferred, result);
  napi_delete_async_work(env, job->work);
  free(job->linked.slots);
  free(job->failed_path);
  free(job->root);
  free(job);
}

// diskUsage(root: Buffer, NUL-terminated) -> Promise<{ errno, path?, size, inodes }>.
napi_value js_disk_usage(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  void *bytes;
  size_t length;
  if (argc < 1 || !typed_array_data(env, argv[0], napi_uint8_array, &bytes, &length) || length == 0 ||
      ((const char *)bytes)[length - 1] != '\0' || memchr(bytes, 0, length - 1) != NULL) {
    return throw_message(env, "diskUsage: expects a NUL-terminated path as a Uint8Array");
  }
  struct usage_job *job = calloc(1, sizeof *job);
  if (job == NULL || (job->root = strdup(bytes)) == NULL) {
    free(job);
    return throw_message(env, "diskUsage: out of memory");
  }
  napi_value promise = queue_promised_work(env, "berth:diskUsage", usage_execute, usage_complete, job, &job->deferred, &job->work);
  if (promise == NULL) {
    free(job->root);
    free(job);
  }
  return promise;
}
