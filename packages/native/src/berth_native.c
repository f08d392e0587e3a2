// Berth's native helpers: thin, synchronous wrappers over single Linux syscalls that Node's fs
// does not offer. Every function takes paths as a string or a Buffer (layer tarballs may carry
// names that are not UTF-8). On failure a function throws an Error carrying only `errno`
// (negative, as in Node), `syscall` and `path`; the TypeScript wrapper turns that into an
// error shaped like Node's own fs errors, so all message formatting lives in one place.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MAX_ARGS 6

// Any N-API call that fails leaves a pending JS exception or gets a generic one; callers then
// return NULL, which N-API turns into "throw the pending exception".
static bool ok(napi_env env, napi_status status) {
  if (status == napi_ok) return true;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    const napi_extended_error_info *info = NULL;
    napi_get_last_error_info(env, &info);
    napi_throw_error(env, NULL, info && info->error_message ? info->error_message : "N-API call failed");
  }
  return false;
}

static napi_value throw_errno(napi_env env, int err, const char *syscall, napi_value path) {
  napi_value message, error, errno_value, syscall_value;
  if (!ok(env, napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &message))) return NULL;
  if (!ok(env, napi_create_error(env, NULL, message, &error))) return NULL;
  if (!ok(env, napi_create_int32(env, -err, &errno_value))) return NULL;
  if (!ok(env, napi_set_named_property(env, error, "errno", errno_value))) return NULL;
  if (!ok(env, napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value))) return NULL;
  if (!ok(env, napi_set_named_property(env, error, "syscall", syscall_value))) return NULL;
  if (path != NULL && !ok(env, napi_set_named_property(env, error, "path", path))) return NULL;
  napi_throw(env, error);
  return NULL;
}

static napi_value undefined_value(napi_env env) {
  napi_value result;
  napi_get_undefined(env, &result);
  return result;
}

// Fetches exactly `want` arguments (fewer is a TypeError; optional ones are handled by callers
// that ask for the count they got via `got`).
static bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, size_t *got) {
  size_t argc = MAX_ARGS;
  napi_value all[MAX_ARGS];
  if (!ok(env, napi_get_cb_info(env, info, &argc, all, NULL, NULL))) return false;
  if (got != NULL) *got = argc;
  if (argc < want) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "missing arguments");
    return false;
  }
  for (size_t i = 0; i < MAX_ARGS; i++) argv[i] = i < argc ? all[i] : NULL;
  return true;
}

// A string or Buffer argument copied into a NUL-terminated heap string the caller frees.
// Embedded NULs are refused: the kernel would silently act on a shorter path.
static char *get_bytes(napi_env env, napi_value value, const char *what) {
  napi_valuetype type;
  if (!ok(env, napi_typeof(env, value, &type))) return NULL;
  char *out = NULL;
  size_t len = 0;
  if (type == napi_string) {
    if (!ok(env, napi_get_value_string_utf8(env, value, NULL, 0, &len))) return NULL;
    out = malloc(len + 1);
    if (out == NULL) goto oom;
    if (!ok(env, napi_get_value_string_utf8(env, value, out, len + 1, &len))) goto fail;
  } else {
    bool is_buffer = false;
    if (!ok(env, napi_is_buffer(env, value, &is_buffer))) return NULL;
    if (!is_buffer) {
      char msg[128];
      snprintf(msg, sizeof msg, "%s must be a string or a Buffer", what);
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
      return NULL;
    }
    void *data = NULL;
    if (!ok(env, napi_get_buffer_info(env, value, &data, &len))) return NULL;
    out = malloc(len + 1);
    if (out == NULL) goto oom;
    if (len > 0) memcpy(out, data, len);
  }
  out[len] = '\0';
  if (memchr(out, '\0', len) != NULL) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must not contain null bytes", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", msg);
    goto fail;
  }
  return out;
oom:
  napi_throw_error(env, "ENOMEM", "out of memory");
fail:
  free(out);
  return NULL;
}

static bool get_int64(napi_env env, napi_value value, const char *what, int64_t *out) {
  napi_valuetype type;
  if (!ok(env, napi_typeof(env, value, &type))) return false;
  if (type != napi_number) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a number", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return false;
  }
  return ok(env, napi_get_value_int64(env, value, out));
}

static bool get_uint32(napi_env env, napi_value value, const char *what, uint32_t *out) {
  int64_t v;
  if (!get_int64(env, value, what, &v)) return false;
  if (v < 0 || v > UINT32_MAX) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s is out of range", what);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return false;
  }
  *out = (uint32_t)v;
  return true;
}

// mknod(path, mode, major, minor): mode carries the file type bits (S_IFCHR, S_IFBLK, S_IFIFO…).
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  uint32_t mode, major_no, minor_no;
  if (!get_args(env, info, 4, argv, NULL)) return NULL;
  if (!get_uint32(env, argv[1], "mode", &mode) || !get_uint32(env, argv[2], "major", &major_no) ||
      !get_uint32(env, argv[3], "minor", &minor_no))
    return NULL;
  char *path = get_bytes(env, argv[0], "path");
  if (path == NULL) return NULL;
  int rc = mknod(path, (mode_t)mode, makedev(major_no, minor_no));
  int err = errno;
  free(path);
  if (rc != 0) return throw_errno(env, err, "mknod", argv[0]);
  return undefined_value(env);
}

static napi_value js_mkfifo(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  uint32_t mode;
  if (!get_args(env, info, 2, argv, NULL)) return NULL;
  if (!get_uint32(env, argv[1], "mode", &mode)) return NULL;
  char *path = get_bytes(env, argv[0], "path");
  if (path == NULL) return NULL;
  int rc = mkfifo(path, (mode_t)mode);
  int err = errno;
  free(path);
  if (rc != 0) return throw_errno(env, err, "mkfifo", argv[0]);
  return undefined_value(env);
}

static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  if (!get_args(env, info, 3, argv, NULL)) return NULL;
  bool is_buffer = false;
  if (!ok(env, napi_is_buffer(env, argv[2], &is_buffer))) return NULL;
  if (!is_buffer) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "value must be a Buffer");
    return NULL;
  }
  void *value = NULL;
  size_t size = 0;
  if (!ok(env, napi_get_buffer_info(env, argv[2], &value, &size))) return NULL;
  char *path = get_bytes(env, argv[0], "path");
  if (path == NULL) return NULL;
  char *name = get_bytes(env, argv[1], "name");
  if (name == NULL) {
    free(path);
    return NULL;
  }
  int rc = lsetxattr(path, name, size > 0 ? value : "", size, 0);
  int err = errno;
  free(path);
  free(name);
  if (rc != 0) return throw_errno(env, err, "lsetxattr", argv[0]);
  return undefined_value(env);
}

// Returns undefined when the attribute is absent (ENODATA), the value's bytes otherwise. The size
// can change between the probe and the read, hence the ERANGE loop.
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  if (!get_args(env, info, 2, argv, NULL)) return NULL;
  char *path = get_bytes(env, argv[0], "path");
  if (path == NULL) return NULL;
  char *name = get_bytes(env, argv[1], "name");
  if (name == NULL) {
    free(path);
    return NULL;
  }
  napi_value result = NULL;
  char *buf = NULL;
  for (;;) {
    ssize_t size = lgetxattr(path, name, NULL, 0);
    if (size < 0) {
      if (errno == ENODATA) result = undefined_value(env);
      else throw_errno(env, errno, "lgetxattr", argv[0]);
      break;
    }
    char *grown = realloc(buf, (size_t)size + 1);
    if (grown == NULL) {
      napi_throw_error(env, "ENOMEM", "out of memory");
      break;
    }
    buf = grown;
    ssize_t got = lgetxattr(path, name, buf, (size_t)size);
    if (got < 0 && errno == ERANGE) continue;
    if (got < 0) {
      if (errno == ENODATA) result = undefined_value(env);
      else throw_errno(env, errno, "lgetxattr", argv[0]);
      break;
    }
    ok(env, napi_create_buffer_copy(env, (size_t)got, buf, NULL, &result));
    break;
  }
  free(buf);
  free(path);
  free(name);
  return result;
}

static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  if (!get_args(env, info, 1, argv, NULL)) return NULL;
  char *path = get_bytes(env, argv[0], "path");
  if (path == NULL) return NULL;
  napi_value result = NULL;
  char *buf = NULL;
  ssize_t got;
  for (;;) {
    ssize_t size = llistxattr(path, NULL, 0);
    if (size < 0) {
      throw_errno(env, errno, "llistxattr", argv[0]);
      goto done;
    }
    char *grown = realloc(buf, (size_t)size + 1);
    if (grown == NULL) {
      napi_throw_error(env, "ENOMEM", "out of memory");
      goto done;
    }
    buf = grown;
    got = llistxattr(path, buf, (size_t)size);
    if (got >= 0) break;
    if (errno != ERANGE) {
      throw_errno(env, errno, "llistxattr", argv[0]);
      goto done;
    }
  }
  // The kernel returns the names back to back, each NUL-terminated.
  napi_value list;
  if (!ok(env, napi_create_array(env, &list))) goto done;
  uint32_t index = 0;
  for (ssize_t at = 0; at < got;) {
    size_t len = strnlen(buf + at, (size_t)(got - at));
    napi_value name;
    if (!ok(env, napi_create_string_utf8(env, buf + at, len, &name))) goto done;
    if (!ok(env, napi_set_element(env, list, index++, name))) goto done;
    at += (ssize_t)len + 1;
  }
  result = list;
done:
  free(buf);
  free(path);
  return result;
}

static napi_value js_lremovexattr(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  if (!get_args(env, info, 2, argv, NULL)) return NULL;
  char *path = get_bytes(env, argv[0], "path");
  if (path == NULL) return NULL;
  char *name = get_bytes(env, argv[1], "name");
  if (name == NULL) {
    free(path);
    return NULL;
  }
  int rc = lremovexattr(path, name);
  int err = errno;
  free(path);
  free(name);
  if (rc != 0) return throw_errno(env, err, "lremovexattr", argv[0]);
  return undefined_value(env);
}

// lutimesNs(path, atimeSec, atimeNsec, mtimeSec, mtimeNsec): exact times, symlinks not followed.
static napi_value js_lutimes_ns(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  if (!get_args(env, info, 5, argv, NULL)) return NULL;
  int64_t as, an, ms, mn;
  if (!get_int64(env, argv[1], "atimeSec", &as) || !get_int64(env, argv[2], "atimeNsec", &an) ||
      !get_int64(env, argv[3], "mtimeSec", &ms) || !get_int64(env, argv[4], "mtimeNsec", &mn))
    return NULL;
  if (an < 0 || an > 999999999 || mn < 0 || mn > 999999999) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "nanoseconds must be within 0..999999999");
    return NULL;
  }
  char *path = get_bytes(env, argv[0], "path");
  if (path == NULL) return NULL;
  struct timespec times[2] = {{.tv_sec = (time_t)as, .tv_nsec = (long)an}, {.tv_sec = (time_t)ms, .tv_nsec = (long)mn}};
  int rc = utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW);
  int err = errno;
  free(path);
  if (rc != 0) return throw_errno(env, err, "utimensat", argv[0]);
  return undefined_value(env);
}

struct mount_call {
  const char *cwd, *source, *target, *fstype, *data;
  unsigned long flags;
  int err;
  const char *failed;
};

// Runs on a thread of its own that unshares its filesystem context (cwd) from the process, so
// changing directory for relative overlay paths never moves the cwd under libuv's worker
// threads, which resolve relative paths concurrently.
static void *mount_in_directory(void *arg) {
  struct mount_call *call = arg;
  if (unshare(CLONE_FS) != 0) {
    call->err = errno;
    call->failed = "unshare";
  } else if (chdir(call->cwd) != 0) {
    call->err = errno;
    call->failed = "chdir";
  } else if (mount(call->source, call->target, call->fstype, call->flags, call->data) != 0) {
    call->err = errno;
    call->failed = "mount";
  }
  return NULL;
}

// mount(source, target, fstype, flags, data, cwd?). Empty fstype and data go to the kernel as
// NULL, as remounts and propagation changes expect.
static napi_value js_mount(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  size_t argc = 0;
  if (!get_args(env, info, 5, argv, &argc)) return NULL;
  int64_t flags;
  if (!get_int64(env, argv[3], "flags", &flags)) return NULL;
  napi_valuetype cwd_type = napi_undefined;
  if (argc > 5 && !ok(env, napi_typeof(env, argv[5], &cwd_type))) return NULL;
  bool has_cwd = cwd_type != napi_undefined && cwd_type != napi_null;

  napi_value result = NULL;
  char *source = NULL, *target = NULL, *fstype = NULL, *data = NULL, *cwd = NULL;
  if ((source = get_bytes(env, argv[0], "source")) == NULL) goto done;
  if ((target = get_bytes(env, argv[1], "target")) == NULL) goto done;
  if ((fstype = get_bytes(env, argv[2], "fstype")) == NULL) goto done;
  if ((data = get_bytes(env, argv[4], "data")) == NULL) goto done;
  if (has_cwd && (cwd = get_bytes(env, argv[5], "cwd")) == NULL) goto done;

  struct mount_call call = {
      .cwd = cwd,
      .source = source,
      .target = target,
      .fstype = fstype[0] != '\0' ? fstype : NULL,
      .data = data[0] != '\0' ? data : NULL,
      .flags = (unsigned long)flags,
  };
  if (!has_cwd) {
    if (mount(call.source, call.target, call.fstype, call.flags, call.data) != 0) {
      call.err = errno;
      call.failed = "mount";
    }
  } else {
    pthread_t thread;
    int rc = pthread_create(&thread, NULL, mount_in_directory, &call);
    if (rc != 0) {
      call.err = rc;
      call.failed = "pthread_create";
    } else {
      pthread_join(thread, NULL);
    }
  }
  if (call.failed != NULL) {
    throw_errno(env, call.err, call.failed, strcmp(call.failed, "chdir") == 0 ? argv[5] : argv[1]);
    goto done;
  }
  result = undefined_value(env);
done:
  free(source);
  free(target);
  free(fstype);
  free(data);
  free(cwd);
  return result;
}

static napi_value js_umount2(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  if (!get_args(env, info, 2, argv, NULL)) return NULL;
  int64_t flags;
  if (!get_int64(env, argv[1], "flags", &flags)) return NULL;
  char *target = get_bytes(env, argv[0], "target");
  if (target == NULL) return NULL;
  int rc = umount2(target, (int)flags);
  int err = errno;
  free(target);
  if (rc != 0) return throw_errno(env, err, "umount2", argv[0]);
  return undefined_value(env);
}

// Makes orphaned descendants (a shim's container processes) reparent to this process, not init.
static napi_value js_set_child_subreaper(napi_env env, napi_callback_info info) {
  (void)info;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return throw_errno(env, errno, "prctl", NULL);
  return undefined_value(env);
}

static bool set_number(napi_env env, napi_value obj, const char *key, double value) {
  napi_value v;
  return ok(env, napi_create_double(env, value, &v)) && ok(env, napi_set_named_property(env, obj, key, v));
}

static bool set_bool(napi_env env, napi_value obj, const char *key, bool value) {
  napi_value v;
  return ok(env, napi_get_boolean(env, value, &v)) && ok(env, napi_set_named_property(env, obj, key, v));
}

// One waitpid(-1, WNOHANG): the next terminated child, or undefined when none is ready or there
// are no children at all (ECHILD). exitCode follows the shell's 128+signal convention.
static napi_value js_wait_any(napi_env env, napi_callback_info info) {
  (void)info;
  int status = 0;
  pid_t pid;
  do pid = waitpid(-1, &status, WNOHANG);
  while (pid < 0 && errno == EINTR);
  if (pid == 0 || (pid < 0 && errno == ECHILD)) return undefined_value(env);
  if (pid < 0) return throw_errno(env, errno, "waitpid", NULL);

  bool exited = WIFEXITED(status);
  bool signaled = WIFSIGNALED(status);
  napi_value obj;
  if (!ok(env, napi_create_object(env, &obj))) return NULL;
  if (!set_number(env, obj, "pid", pid) || !set_number(env, obj, "status", status) ||
      !set_bool(env, obj, "exited", exited) ||
      !set_number(env, obj, "exitCode", exited ? WEXITSTATUS(status) : signaled ? 128 + WTERMSIG(status) : 0))
    return NULL;
  napi_value signal;
  if (signaled) {
    if (!ok(env, napi_create_int32(env, WTERMSIG(status), &signal))) return NULL;
  } else {
    napi_get_undefined(env, &signal);
  }
  if (!ok(env, napi_set_named_property(env, obj, "signal", signal))) return NULL;
  return obj;
}

static napi_value js_getpgid(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  if (!get_args(env, info, 1, argv, NULL)) return NULL;
  uint32_t pid;
  if (!get_uint32(env, argv[0], "pid", &pid)) return NULL;
  pid_t pgid = getpgid((pid_t)pid);
  if (pgid < 0) return throw_errno(env, errno, "getpgid", NULL);
  napi_value result;
  if (!ok(env, napi_create_int32(env, pgid, &result))) return NULL;
  return result;
}

struct constant {
  const char *name;
  double value;
};

// Taken from the C headers rather than retyped in TypeScript, so they cannot drift.
static const struct constant constants[] = {
    {"MNT_FORCE", MNT_FORCE},           {"MNT_DETACH", MNT_DETACH},
    {"UMOUNT_NOFOLLOW", UMOUNT_NOFOLLOW}, {"MS_RDONLY", MS_RDONLY},
    {"MS_NOSUID", MS_NOSUID},           {"MS_NODEV", MS_NODEV},
    {"MS_NOEXEC", MS_NOEXEC},           {"MS_SYNCHRONOUS", MS_SYNCHRONOUS},
    {"MS_REMOUNT", MS_REMOUNT},         {"MS_MANDLOCK", MS_MANDLOCK},
    {"MS_DIRSYNC", MS_DIRSYNC},         {"MS_NOATIME", MS_NOATIME},
    {"MS_NODIRATIME", MS_NODIRATIME},   {"MS_BIND", MS_BIND},
    {"MS_MOVE", MS_MOVE},               {"MS_REC", MS_REC},
    {"MS_SILENT", MS_SILENT},           {"MS_PRIVATE", MS_PRIVATE},
    {"MS_SLAVE", MS_SLAVE},             {"MS_SHARED", MS_SHARED},
    {"MS_UNBINDABLE", MS_UNBINDABLE},   {"MS_RELATIME", MS_RELATIME},
    {"MS_STRICTATIME", MS_STRICTATIME},
};

NAPI_MODULE_INIT() {
  static const struct {
    const char *name;
    napi_callback fn;
  } functions[] = {
      {"mknod", js_mknod},
      {"mkfifo", js_mkfifo},
      {"lsetxattr", js_lsetxattr},
      {"lgetxattr", js_lgetxattr},
      {"llistxattr", js_llistxattr},
      {"lremovexattr", js_lremovexattr},
      {"lutimesNs", js_lutimes_ns},
      {"mount", js_mount},
      {"umount2", js_umount2},
      {"setChildSubreaper", js_set_child_subreaper},
      {"waitAny", js_wait_any},
      {"getpgid", js_getpgid},
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    napi_value fn;
    if (!ok(env, napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].fn, NULL, &fn))) return NULL;
    if (!ok(env, napi_set_named_property(env, exports, functions[i].name, fn))) return NULL;
  }
  napi_value table;
  if (!ok(env, napi_create_object(env, &table))) return NULL;
  for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++) {
    if (!set_number(env, table, constants[i].name, constants[i].value)) return NULL;
  }
  if (!set_number(env, table, "PAGE_SIZE", (double)sysconf(_SC_PAGESIZE))) return NULL;
  if (!ok(env, napi_set_named_property(env, exports, "constants", table))) return NULL;
  return exports;
}
