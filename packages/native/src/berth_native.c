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
#include <termios.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <uv.h>

#include "file_batch.h"
#include "page_cache.h"
#include "disk_usage.h"
#include "gzip_inflater.h"

#define MAX_ARGS 6

#ifndef P_PIDFD
#define P_PIDFD 3  // glibc 2.36 has waitid(P_PIDFD) but not always the constant
#endif

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
// A reaped child as JS: { pid, status (raw wait status), exited, exitCode, signal }.
static napi_value reaped_value(napi_env env, pid_t pid, int status) {
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

static napi_value js_wait_any(napi_env env, napi_callback_info info) {
  (void)info;
  int status = 0;
  pid_t pid;
  do pid = waitpid(-1, &status, WNOHANG);
  while (pid < 0 && errno == EINTR);
  if (pid == 0 || (pid < 0 && errno == ECHILD)) return undefined_value(env);
  if (pid < 0) return throw_errno(env, errno, "waitpid", NULL);
  return reaped_value(env, pid, status);
}

// A new descriptor as a JS number; closed again if that fails, so no descriptor leaks.
static napi_value fd_value(napi_env env, int fd) {
  napi_value result;
  if (!ok(env, napi_create_int32(env, fd, &result))) {
    close(fd);
    return NULL;
  }
  return result;
}

// pidfdOpen(pid) -> fd: a close-on-exec pidfd for a child, so its exit can be polled and reaped
// by waitid(P_PIDFD) alone, in a process where waitpid(-1) would steal libuv's children.
static napi_value js_pidfd_open(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  if (!get_args(env, info, 1, argv, NULL)) return NULL;
  uint32_t pid;
  if (!get_uint32(env, argv[0], "pid", &pid)) return NULL;
  int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
  if (fd < 0) return throw_errno(env, errno, "pidfd_open", NULL);
  return fd_value(env, fd);
}

// waitPidfd(fd) -> the child's exit, as waitAny gives it, or undefined while it runs.
static napi_value js_wait_pidfd(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  if (!get_args(env, info, 1, argv, NULL)) return NULL;
  uint32_t fd;
  if (!get_uint32(env, argv[0], "fd", &fd)) return NULL;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int rc;
  do rc = waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) return throw_errno(env, errno, "waitid", NULL);
  if (si.si_pid == 0) return undefined_value(env);
  // As a wait status, the way waitpid would have reported it.
  int status = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 : (si.si_status & 0x7f) | (si.si_code == CLD_DUMPED ? 0x80 : 0);
  return reaped_value(env, si.si_pid, status);
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

// A JS array of strings as a NULL-terminated, heap-allocated vector (argv, envp). free_vector
// releases it, whatever the failure point.
static void free_vector(char **vec) {
  if (vec == NULL) return;
  for (char **at = vec; *at != NULL; at++) free(*at);
  free(vec);
}

static char **get_string_vector(napi_env env, napi_value array, const char *what) {
  bool is_array = false;
  if (!ok(env, napi_is_array(env, array, &is_array))) return NULL;
  if (!is_array) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be an array of strings", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return NULL;
  }
  uint32_t length = 0;
  if (!ok(env, napi_get_array_length(env, array, &length))) return NULL;
  char **vec = calloc((size_t)length + 1, sizeof(char *));
  if (vec == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < length; i++) {
    napi_value item;
    if (!ok(env, napi_get_element(env, array, i, &item)) || (vec[i] = get_bytes(env, item, what)) == NULL) {
      free_vector(vec);
      return NULL;
    }
  }
  return vec;
}

#define MAX_SPAWN_FDS 64

// The executable `file` names: itself when it holds a slash, else the first executable match on
// the PATH of `envp` (or this process's PATH). Done before fork: the child may not allocate.
static char *resolve_executable(const char *file, char **envp) {
  if (strchr(file, '/') != NULL) return strdup(file);
  const char *path = NULL;
  for (char **at = envp; *at != NULL; at++) {
    if (strncmp(*at, "PATH=", 5) == 0) path = *at + 5;
  }
  if (path == NULL) path = getenv("PATH");
  if (path == NULL) path = "/usr/local/bin:/usr/bin:/bin";
  size_t file_len = strlen(file);
  for (const char *dir = path;; dir = strchr(dir, ':') + 1) {
    const char *end = strchr(dir, ':');
    size_t dir_len = end != NULL ? (size_t)(end - dir) : strlen(dir);
    char *candidate = malloc(dir_len + file_len + 3);
    if (candidate == NULL) return NULL;
    if (dir_len == 0) snprintf(candidate, file_len + 3, "./%s", file);
    else snprintf(candidate, dir_len + file_len + 2, "%.*s/%s", (int)dir_len, dir, file);
    if (access(candidate, X_OK) == 0) return candidate;
    free(candidate);
    if (end == NULL) break;
  }
  errno = ENOENT;
  return NULL;
}

// spawnProcess(file, argv, envp, fds, cwd, setsid) -> pid. Child fd i becomes a duplicate of
// fds[i]; every other descriptor of this process stays behind (Node opens everything
// close-on-exec). vfork + exec, not posix_spawn: glibc's posix_spawn leaves its two internal
// signals ignored in the child, and ignored dispositions outlive exec into containers. Not fork
// either: fork copies the page tables of this whole process, which blocks the event loop for
// about 5 ms in a daemon of 170 MB (1 ms per 30 MB); vfork shares them and suspends only this
// thread until the child has exec'd. The child resets every handler (Node ignores SIGPIPE;
// vfork does not share the handler table, so the parent keeps its own) and the mask, writes
// nothing but its own locals and touches nothing but async-signal-safe calls, as vfork
// requires. An exec failure comes back through a close-on-exec pipe.
static napi_value js_spawn_process(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  if (!get_args(env, info, 6, argv, NULL)) return NULL;
  napi_value result = NULL;
  char *file = NULL, *cwd = NULL, *path = NULL;
  char **args = NULL, **envp = NULL;
  int map[MAX_SPAWN_FDS], temp[MAX_SPAWN_FDS];
  uint32_t nfds = 0, made = 0;
  int report[2] = {-1, -1};

  if ((file = get_bytes(env, argv[0], "file")) == NULL) goto done;
  if ((args = get_string_vector(env, argv[1], "argv")) == NULL) goto done;
  if ((envp = get_string_vector(env, argv[2], "envp")) == NULL) goto done;
  bool is_array = false;
  if (!ok(env, napi_is_array(env, argv[3], &is_array))) goto done;
  if (!is_array || !ok(env, napi_get_array_length(env, argv[3], &nfds)) || nfds > MAX_SPAWN_FDS) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "fds must be an array of at most 64 descriptors");
    goto done;
  }
  for (uint32_t i = 0; i < nfds; i++) {
    napi_value item;
    uint32_t fd;
    if (!ok(env, napi_get_element(env, argv[3], i, &item)) || !get_uint32(env, item, "fd", &fd)) goto done;
    map[i] = (int)fd;
  }
  napi_valuetype cwd_type;
  if (!ok(env, napi_typeof(env, argv[4], &cwd_type))) goto done;
  if (cwd_type != napi_undefined && cwd_type != napi_null && (cwd = get_bytes(env, argv[4], "cwd")) == NULL) goto done;
  bool setsid_flag = false;
  if (!ok(env, napi_get_value_bool(env, argv[5], &setsid_flag))) goto done;
  if ((path = resolve_executable(file, envp)) == NULL) {
    throw_errno(env, errno, "spawn", argv[0]);
    goto done;
  }

  // Every source is first duplicated above the highest target, so that mapping 1 -> 2 and
  // 2 -> 1 (or a source that is itself a target) cannot clobber a descriptor still to be copied.
  for (; made < nfds; made++) {
    temp[made] = fcntl(map[made], F_DUPFD_CLOEXEC, (int)nfds);
    if (temp[made] < 0) {
      throw_errno(env, errno, "fcntl", NULL);
      goto done;
    }
  }
  if (pipe2(report, O_CLOEXEC) != 0) {
    throw_errno(env, errno, "pipe2", NULL);
    goto done;
  }
  // No handler of this process may run in the child (libuv's would write to the parent's
  // signal pipe): everything is blocked across fork, and the child resets before unblocking.
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  pid_t pid = vfork();
  if (pid == 0) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
      if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, NULL);  // libc's own signals refuse: fine
    }
    sigset_t none;
    sigemptyset(&none);
    int err = 0;
    if (setsid_flag && setsid() < 0) err = errno;
    for (uint32_t i = 0; err == 0 && i < nfds; i++) {
      if (dup2(temp[i], (int)i) < 0) err = errno;
    }
    if (err == 0 && cwd != NULL && chdir(cwd) != 0) err = errno;
    if (err == 0) {
      sigprocmask(SIG_SETMASK, &none, NULL);
      execve(path, args, envp);
      err = errno;
    }
    ssize_t ignored = write(report[1], &err, sizeof err);
    (void)ignored;
    _exit(127);
  }
  int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &saved, NULL);
  close(report[1]);
  report[1] = -1;
  if (pid < 0) {
    throw_errno(env, fork_errno, "vfork", NULL);
    goto done;
  }
  int child_errno = 0;
  ssize_t got;
  do got = read(report[0], &child_errno, sizeof child_errno);
  while (got < 0 && errno == EINTR);
  if (got == (ssize_t)sizeof child_errno) {
    // The child never ran the program: collect it here, it is nobody else's business.
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw_errno(env, child_errno, "spawn", argv[0]);
    goto done;
  }
  ok(env, napi_create_int32(env, pid, &result));
done:
  for (uint32_t i = 0; i < made; i++) close(temp[i]);
  if (report[0] >= 0) close(report[0]);
  if (report[1] >= 0) close(report[1]);
  free(file);
  free(cwd);
  free(path);
  free_vector(args);
  free_vector(envp);
  return result;
}

static napi_value fd_pair(napi_env env, int a, int b) {
  napi_value pair, first, second;
  if (!ok(env, napi_create_array_with_length(env, 2, &pair)) || !ok(env, napi_create_int32(env, a, &first)) ||
      !ok(env, napi_create_int32(env, b, &second)) || !ok(env, napi_set_element(env, pair, 0, first)) ||
      !ok(env, napi_set_element(env, pair, 1, second)))
    return NULL;
  return pair;
}

// pipe() -> [read, write], both close-on-exec and blocking: they are meant for a child's stdio.
static napi_value js_pipe(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return throw_errno(env, errno, "pipe2", NULL);
  napi_value pair = fd_pair(env, fds[0], fds[1]);
  if (pair == NULL) {
    close(fds[0]);
    close(fds[1]);
  }
  return pair;
}

// unixListen(path) -> fd: a listening, non-blocking, close-on-exec UNIX stream socket.
static napi_value js_unix_listen(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  if (!get_args(env, info, 1, argv, NULL)) return NULL;
  char *path = get_bytes(env, argv[0], "path");
  if (path == NULL) return NULL;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  size_t len = strlen(path);
  if (len >= sizeof addr.sun_path) {
    free(path);
    return throw_errno(env, ENAMETOOLONG, "bind", argv[0]);
  }
  memcpy(addr.sun_path, path, len + 1);
  free(path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return throw_errno(env, errno, "socket", NULL);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "bind", argv[0]);
  }
  if (listen(fd, 128) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "listen", argv[0]);
  }
  return fd_value(env, fd);
}

// receiveFd(listenFd) -> fd | undefined: accepts one pending connection and takes the descriptor
// its peer sent with SCM_RIGHTS (runc's console socket protocol), without blocking. Undefined
// when no connection or no message is waiting yet.
static napi_value js_receive_fd(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  if (!get_args(env, info, 1, argv, NULL)) return NULL;
  uint32_t listen_fd;
  if (!get_uint32(env, argv[0], "fd", &listen_fd)) return NULL;
  int conn = accept4((int)listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (conn < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return undefined_value(env);
    return throw_errno(env, errno, "accept4", NULL);
  }
  char data[4096];
  union {
    struct cmsghdr header;
    char space[CMSG_SPACE(sizeof(int))];
  } control;
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space, .msg_controllen = sizeof control.space};
  ssize_t got;
  do got = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (got < 0 && errno == EINTR);
  int err = errno;
  close(conn);
  if (got < 0) {
    if (err == EAGAIN || err == EWOULDBLOCK) return undefined_value(env);
    return throw_errno(env, err, "recvmsg", NULL);
  }
  int received = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      memcpy(&received, CMSG_DATA(c), sizeof(int));
      break;
    }
  }
  if (received < 0) return throw_errno(env, (msg.msg_flags & MSG_CTRUNC) ? EMSGSIZE : EBADMSG, "recvmsg", NULL);
  return fd_value(env, received);
}

// setWindowSize(fd, rows, cols): TIOCSWINSZ on a terminal (a console master).
static napi_value js_set_window_size(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  if (!get_args(env, info, 3, argv, NULL)) return NULL;
  uint32_t fd, rows, cols;
  if (!get_uint32(env, argv[0], "fd", &fd) || !get_uint32(env, argv[1], "rows", &rows) || !get_uint32(env, argv[2], "cols", &cols))
    return NULL;
  if (rows > UINT16_MAX || cols > UINT16_MAX) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "rows and cols must fit in 16 bits");
    return NULL;
  }
  struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  if (ioctl((int)fd, TIOCSWINSZ, &ws) != 0) return throw_errno(env, errno, "ioctl", NULL);
  return undefined_value(env);
}

// eventfd() -> fd: a non-blocking, close-on-exec eventfd (cgroup v1 memory notifications).
static napi_value js_eventfd(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return throw_errno(env, errno, "eventfd", NULL);
  return fd_value(env, fd);
}

// setCloseOnExec(fd): sets FD_CLOEXEC on a descriptor a library opened without it (lmdb's
// files), so children such as shims do not inherit it.
static napi_value js_set_close_on_exec(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  if (!get_args(env, info, 1, argv, NULL)) return NULL;
  uint32_t fd;
  if (!get_uint32(env, argv[0], "fd", &fd)) return NULL;
  int flags = fcntl((int)fd, F_GETFD);
  if (flags < 0 || fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC) != 0) return throw_errno(env, errno, "fcntl", NULL);
  return undefined_value(env);
}

// A readiness watch on a descriptor Node has no handle type for (an eventfd): libuv polls it
// on the main loop and calls back on the JS thread, so nothing blocks a thread-pool worker.
struct fd_watch {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  bool closed;
};

static void fd_watch_closed(uv_handle_t *handle) {
  struct fd_watch *watch = handle->data;
  napi_delete_reference(watch->env, watch->callback);
  napi_async_destroy(watch->env, watch->context);
  free(watch);
}

static void fd_watch_ready(uv_poll_t *handle, int status, int events) {
  (void)events;
  struct fd_watch *watch = handle->data;
  napi_env env = watch->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value callback, recv, arg, ignored;
  if (napi_get_reference_value(env, watch->callback, &callback) == napi_ok && callback != NULL &&
      napi_get_global(env, &recv) == napi_ok && napi_create_int32(env, status, &arg) == napi_ok) {
    // make_callback runs the microtasks the callback queued, as for any libuv callback in Node.
    if (napi_make_callback(env, watch->context, recv, callback, 1, &arg, &ignored) == napi_pending_exception) {
      napi_value error;
      if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
    }
  }
  napi_close_handle_scope(env, scope);
}

static napi_value js_watch_readable(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  if (!get_args(env, info, 2, argv, NULL)) return NULL;
  uint32_t fd;
  if (!get_uint32(env, argv[0], "fd", &fd)) return NULL;
  napi_valuetype type;
  if (!ok(env, napi_typeof(env, argv[1], &type))) return NULL;
  if (type != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "callback must be a function");
    return NULL;
  }
  struct uv_loop_s *loop;
  if (!ok(env, napi_get_uv_event_loop(env, &loop))) return NULL;
  struct fd_watch *watch = calloc(1, sizeof *watch);
  if (watch == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  watch->env = env;
  napi_value name;
  if (!ok(env, napi_create_string_utf8(env, "berth.fdWatch", NAPI_AUTO_LENGTH, &name)) ||
      !ok(env, napi_async_init(env, NULL, name, &watch->context))) {
    free(watch);
    return NULL;
  }
  if (!ok(env, napi_create_reference(env, argv[1], 1, &watch->callback))) {
    napi_async_destroy(env, watch->context);
    free(watch);
    return NULL;
  }
  int rc = uv_poll_init(loop, &watch->poll, (int)fd);
  if (rc == 0) {
    watch->poll.data = watch;
    rc = uv_poll_start(&watch->poll, UV_READABLE, fd_watch_ready);
    if (rc != 0) {
      watch->closed = true;
      uv_close((uv_handle_t *)&watch->poll, fd_watch_closed);
    }
  } else {
    napi_delete_reference(env, watch->callback);
    napi_async_destroy(env, watch->context);
    free(watch);
  }
  if (rc != 0) return throw_errno(env, -rc, "uv_poll", NULL);
  napi_value external;
  if (!ok(env, napi_create_external(env, watch, NULL, NULL, &external))) return NULL;
  return external;
}

// Stops a watch; its memory goes once libuv has closed the handle. A second call is a no-op.
static napi_value js_unwatch(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  if (!get_args(env, info, 1, argv, NULL)) return NULL;
  void *data = NULL;
  if (!ok(env, napi_get_value_external(env, argv[0], &data))) return NULL;
  struct fd_watch *watch = data;
  if (watch != NULL && !watch->closed) {
    watch->closed = true;
    uv_poll_stop(&watch->poll);
    uv_close((uv_handle_t *)&watch->poll, fd_watch_closed);
  }
  return undefined_value(env);
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
      {"pidfdOpen", js_pidfd_open},
      {"waitPidfd", js_wait_pidfd},
      {"spawnProcess", js_spawn_process},
      {"pipe", js_pipe},
      {"unixListen", js_unix_listen},
      {"receiveFd", js_receive_fd},
      {"setWindowSize", js_set_window_size},
      {"eventfd", js_eventfd},
      {"setCloseOnExec", js_set_close_on_exec},
      {"watchReadable", js_watch_readable},
      {"unwatch", js_unwatch},
      {"gzipInflaterBackends", js_gzip_inflater_backends},
      {"gzipInflaterNew", js_gzip_inflater_new},
      {"gzipInflaterStep", js_gzip_inflater_step},
      {"gzipInflaterClose", js_gzip_inflater_close},
      {"gzipInflaterSha256", js_gzip_inflater_sha256},
      {"createFiles", js_create_files},
      {"dropWrittenPages", js_drop_written_pages},
      {"diskUsage", js_disk_usage},
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
