// Gzip decompression into buffers the caller owns, on libuv's thread pool. Node's zlib streams
// allocate a fresh output buffer for every chunk; at layer sizes (hundreds of MB) those
// allocations cost more CPU than the inflate itself (page faults, and the major GCs their
// external memory triggers), so the applier reuses a few buffers instead.
//
// Two backends. zlib and OpenSSL come from the node binary, which exports both (Node's headers
// ship zlib.h and openssl/): nothing to link. Intel's ISA-L (igzip) inflates faster: the
// `multi` fixture's 93 MB layer in 71-97 ms against 118-136 ms with that zlib, stepped the
// same way on these machines (its small-file layers up to 3x faster). It is loaded with dlopen
// when the addon was built with its header, so a host without libisal still gets zlib instead
// of an addon that fails to load.
// An inflater can also digest what it produces (a layer's diff ID) on the same thread-pool
// thread, so that work leaves the main thread too.
#define NAPI_VERSION 8
#include <node_api.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <zlib.h>
#ifdef BERTH_ISAL
#include <dlfcn.h>
#include <isa-l/igzip_lib.h>
#endif

#include "gzip_inflater.h"
#include "napi_helpers.h"

// 15 window bits, +16: a gzip wrapper (header and CRC-32/size trailer checked) is required.
#define GZIP_WINDOW_BITS (15 + 16)
#define GZIP_MAGIC 0x1f

enum backend { BACKEND_ZLIB, BACKEND_ISAL };

#ifdef BERTH_ISAL
// ISA-L's inflate entry points, resolved once from libisal.so.2; NULL when it is not there.
static struct {
  bool tried;
  void (*init)(struct inflate_state *);
  void (*reset)(struct inflate_state *);
  int (*inflate)(struct inflate_state *);
} isal;

static bool isal_available(void) {
  // Called on the main thread only (inflater creation), so no lock is needed.
  if (!isal.tried) {
    isal.tried = true;
    void *lib = dlopen("libisal.so.2", RTLD_NOW | RTLD_LOCAL);
    if (lib != NULL) {
      isal.init = (void (*)(struct inflate_state *))dlsym(lib, "isal_inflate_init");
      isal.reset = (void (*)(struct inflate_state *))dlsym(lib, "isal_inflate_reset");
      isal.inflate = (int (*)(struct inflate_state *))dlsym(lib, "isal_inflate");
      if (isal.init == NULL || isal.reset == NULL || isal.inflate == NULL) isal.init = NULL;
    }
  }
  return isal.init != NULL;
}
#else
static bool isal_available(void) { return false; }
#endif

struct inflater {
  enum backend backend;
  z_stream strm;
#ifdef BERTH_ISAL
  struct inflate_state *isal; // BACKEND_ISAL: ISA-L's state (~60 KiB, so not inline)
#endif
  EVP_MD_CTX *sha256; // NULL unless asked for: the SHA-256 of every byte produced
  bool ready;        // inflateInit2 succeeded; inflateEnd still owed
  bool busy;         // a step is on the thread pool
  bool closed;       // close() was called: zlib's state goes once no step is running
  bool member_ended; // the last gzip member's trailer was read; more members may follow
};

struct inflate_step {
  napi_async_work work;
  napi_deferred deferred;
  struct inflater *inf;
  napi_ref handle_ref, input_ref, output_ref; // alive until the step completes
  uint8_t *in;
  size_t in_len;
  uint8_t *out;
  size_t out_len;
  size_t consumed, produced;
  int status; // Z_OK or the zlib error
  char message[128];
};

static void inflater_end(struct inflater *inf);

static void inflater_free(struct inflater *inf) {
  inflater_end(inf);
  if (inf->sha256 != NULL) EVP_MD_CTX_free(inf->sha256);
  free(inf);
}

// A running step holds a reference to the handle: it is never finalized mid-step.
static void inflater_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  inflater_free(data);
}

static void inflater_end(struct inflater *inf) {
  if (!inf->ready) return;
  if (inf->backend == BACKEND_ZLIB) inflateEnd(&inf->strm);
#ifdef BERTH_ISAL
  free(inf->isal);
  inf->isal = NULL;
#endif
  inf->ready = false;
}

#ifdef BERTH_ISAL
static void isal_start_member(struct inflater *inf) {
  isal.reset(inf->isal);
  inf->isal->crc_flag = ISAL_GZIP; // header parsed, CRC-32 checked
}
#endif

// gzipInflaterBackends() -> string[]: the backends this host can use, fastest first.
napi_value js_gzip_inflater_backends(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value list, name;
  uint32_t n = 0;
  if (napi_create_array(env, &list) != napi_ok) return NULL;
  if (isal_available()) {
    napi_create_string_utf8(env, "isa-l", NAPI_AUTO_LENGTH, &name);
    napi_set_element(env, list, n++, name);
  }
  napi_create_string_utf8(env, "zlib", NAPI_AUTO_LENGTH, &name);
  napi_set_element(env, list, n++, name);
  return list;
}

// gzipInflaterNew(sha256: boolean, backend: "isa-l" | "zlib") -> handle
napi_value js_gzip_inflater_new(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool digest = false;
  char backend[16] = "zlib";
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc >= 1 && napi_get_value_bool(env, argv[0], &digest) != napi_ok) return throw_message(env, "gzip inflater: sha256 must be a boolean");
  if (argc >= 2 && napi_get_value_string_utf8(env, argv[1], backend, sizeof backend, NULL) != napi_ok) return throw_message(env, "gzip inflater: backend must be a string");
  bool use_isal = strcmp(backend, "isa-l") == 0;
  if (!use_isal && strcmp(backend, "zlib") != 0) return throw_message(env, "gzip inflater: unknown backend");
  if (use_isal && !isal_available()) return throw_message(env, "gzip inflater: ISA-L (libisal.so.2) is not available");
  struct inflater *inf = calloc(1, sizeof *inf);
  if (inf == NULL) return throw_message(env, "gzip inflater: out of memory");
  if (use_isal) {
#ifdef BERTH_ISAL
    inf->backend = BACKEND_ISAL;
    inf->isal = malloc(sizeof *inf->isal);
    if (inf->isal == NULL) {
      free(inf);
      return throw_message(env, "gzip inflater: out of memory");
    }
    isal.init(inf->isal);
    isal_start_member(inf);
#endif
  } else if (inflateInit2(&inf->strm, GZIP_WINDOW_BITS) != Z_OK) {
    free(inf);
    return throw_message(env, "gzip inflater: inflateInit2 failed");
  }
  inf->ready = true;
  if (digest) {
    inf->sha256 = EVP_MD_CTX_new();
    if (inf->sha256 == NULL || EVP_DigestInit_ex(inf->sha256, EVP_sha256(), NULL) != 1) {
      inflater_free(inf);
      return throw_message(env, "gzip inflater: SHA-256 unavailable");
    }
  }
  napi_value handle;
  if (napi_create_external(env, inf, inflater_finalize, NULL, &handle) != napi_ok) {
    inflater_free(inf);
    return NULL;
  }
  return handle;
}

// After a member's end: true when the input goes on with another member (gzip files may be
// concatenated); bytes that start none are skipped, as Node's gunzip ignores them.
static bool another_member(uint8_t **next_in, uint32_t *avail_in) {
  if (*avail_in == 0) return false;
  if ((*next_in)[0] == GZIP_MAGIC) return true;
  *next_in += *avail_in;
  *avail_in = 0;
  return false;
}

// Runs on the thread pool: inflates until the output is full, the input is used up, or an
// error. A member's end followed by more input starts the next member (gzip files may be
// concatenated); bytes after the last member that are not a gzip header are ignored, as
// Node's gunzip ignores them.
static void zlib_execute(struct inflate_step *s) {
  z_stream *strm = &s->inf->strm;
  strm->next_in = s->in;
  strm->avail_in = (uInt)s->in_len;
  strm->next_out = s->out;
  strm->avail_out = (uInt)s->out_len;
  while (strm->avail_out > 0) {
    if (s->inf->member_ended) {
      if (!another_member(&strm->next_in, &strm->avail_in)) break;
      inflateReset(strm);
      s->inf->member_ended = false;
    }
    int r = inflate(strm, Z_NO_FLUSH);
    if (r == Z_STREAM_END) {
      s->inf->member_ended = true;
      continue;
    }
    if (r == Z_BUF_ERROR) break; // no progress possible until more input (or output space) comes
    if (r != Z_OK) {
      s->status = r;
      snprintf(s->message, sizeof s->message, "%s", strm->msg != NULL ? strm->msg : zError(r));
      break;
    }
  }
  s->consumed = s->in_len - strm->avail_in;
  s->produced = s->out_len - strm->avail_out;
  strm->next_in = NULL;
  strm->next_out = NULL;
}

#ifdef BERTH_ISAL
static const char *isal_message(int r) {
  switch (r) {
  case ISAL_INVALID_BLOCK: return "invalid block type";
  case ISAL_INVALID_SYMBOL: return "invalid code";
  case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
  case ISAL_INVALID_WRAPPER: return "incorrect header check";
  case ISAL_UNSUPPORTED_METHOD: return "unknown compression method";
  case ISAL_INCORRECT_CHECKSUM: return "incorrect data check";
  case ISAL_NEED_DICT: return "need dictionary";
  default: return "inflate failed";
  }
}

// The same contract as zlib_execute, on ISA-L. Its errors are data errors (Z_DATA_ERROR, with
// zlib's wording where one matches), so callers see one kind of failure whichever backend ran.
static void isal_execute(struct inflate_step *s) {
  struct inflate_state *st = s->inf->isal;
  st->next_in = s->in;
  st->avail_in = (uint32_t)s->in_len;
  st->next_out = s->out;
  st->avail_out = (uint32_t)s->out_len;
  while (st->avail_out > 0) {
    if (s->inf->member_ended) {
      if (!another_member(&st->next_in, &st->avail_in)) break;
      isal_start_member(s->inf);
      s->inf->member_ended = false;
    }
    uint32_t in_before = st->avail_in, out_before = st->avail_out;
    int r = isal.inflate(st);
    if (r != ISAL_DECOMP_OK) {
      s->status = r == ISAL_NEED_DICT ? Z_NEED_DICT : Z_DATA_ERROR;
      snprintf(s->message, sizeof s->message, "%s", isal_message(r));
      break;
    }
    if (st->block_state == ISAL_BLOCK_FINISH) {
      s->inf->member_ended = true;
      continue;
    }
    if (st->avail_in == in_before && st->avail_out == out_before) break; // needs more input
  }
  s->consumed = s->in_len - st->avail_in;
  s->produced = s->out_len - st->avail_out;
  st->next_in = NULL;
  st->next_out = NULL;
}
#endif

static void step_execute(napi_env env, void *data) {
  (void)env;
  struct inflate_step *s = data;
  s->status = Z_OK;
#ifdef BERTH_ISAL
  if (s->inf->backend == BACKEND_ISAL) isal_execute(s);
  else zlib_execute(s);
#else
  zlib_execute(s);
#endif
  if (s->status == Z_OK && s->inf->sha256 != NULL && s->produced > 0 && EVP_DigestUpdate(s->inf->sha256, s->out, s->produced) != 1) {
    s->status = Z_ERRNO;
    snprintf(s->message, sizeof s->message, "SHA-256 update failed");
  }
}

static const char *zlib_code(int status) {
  switch (status) {
  case Z_DATA_ERROR: return "Z_DATA_ERROR";
  case Z_MEM_ERROR: return "Z_MEM_ERROR";
  case Z_NEED_DICT: return "Z_NEED_DICT";
  case Z_STREAM_ERROR: return "Z_STREAM_ERROR";
  default: return "Z_ERRNO";
  }
}

static napi_value step_result(napi_env env, struct inflate_step *s) {
  napi_value result, consumed, produced, ended;
  if (napi_create_object(env, &result) != napi_ok) return NULL;
  if (napi_create_double(env, (double)s->consumed, &consumed) != napi_ok ||
      napi_create_double(env, (double)s->produced, &produced) != napi_ok ||
      napi_get_boolean(env, s->inf->member_ended, &ended) != napi_ok)
    return NULL;
  if (napi_set_named_property(env, result, "consumed", consumed) != napi_ok ||
      napi_set_named_property(env, result, "produced", produced) != napi_ok ||
      napi_set_named_property(env, result, "memberEnded", ended) != napi_ok)
    return NULL;
  return result;
}

static napi_value step_error(napi_env env, struct inflate_step *s) {
  napi_value message, code, error;
  if (napi_create_string_utf8(env, s->message, NAPI_AUTO_LENGTH, &message) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, zlib_code(s->status), NAPI_AUTO_LENGTH, &code) != napi_ok) return NULL;
  if (napi_create_error(env, code, message, &error) != napi_ok) return NULL;
  if (napi_set_named_property(env, error, "code", code) != napi_ok) return NULL;
  return error;
}

static void step_complete(napi_env env, napi_status status, void *data) {
  struct inflate_step *s = data;
  struct inflater *inf = s->inf;
  inf->busy = false;
  napi_value outcome = NULL;
  bool failed = status != napi_ok || s->status != Z_OK;
  if (status != napi_ok) {
    napi_value message;
    napi_create_string_utf8(env, "gzip inflater: step cancelled", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &outcome);
  } else {
    outcome = failed ? step_error(env, s) : step_result(env, s);
  }
  if (outcome == NULL) {
    napi_get_undefined(env, &outcome);
    failed = true;
  }
  if (failed) napi_reject_deferred(env, s->deferred, outcome);
  else napi_resolve_deferred(env, s->deferred, outcome);
  if (inf->closed) inflater_end(inf);
  napi_delete_reference(env, s->handle_ref);
  napi_delete_reference(env, s->input_ref);
  napi_delete_reference(env, s->output_ref);
  napi_delete_async_work(env, s->work);
  free(s);
}

// The inflater a call's first argument holds, or NULL with an exception pending.
static struct inflater *inflater_arg(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  void *data;
  if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (*argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok) {
    throw_message(env, "gzip inflater: bad handle");
    return NULL;
  }
  return data;
}

// gzipInflaterStep(handle, input: Uint8Array, output: Uint8Array)
//   -> Promise<{ consumed, produced, memberEnded }>
// Both arrays must stay untouched until the promise settles; one step at a time per handle.
napi_value js_gzip_inflater_step(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  struct inflater *inf = inflater_arg(env, info, &argc, argv);
  if (inf == NULL) return NULL;
  if (inf->closed || !inf->ready) return throw_message(env, "gzip inflater: closed");
  if (inf->busy) return throw_message(env, "gzip inflater: a step is already running");
  struct inflate_step *s = calloc(1, sizeof *s);
  if (s == NULL) return throw_message(env, "gzip inflater: out of memory");
  s->inf = inf;
  void *in, *out;
  if (argc < 3 || !typed_array_data(env, argv[1], napi_uint8_array, &in, &s->in_len) ||
      !typed_array_data(env, argv[2], napi_uint8_array, &out, &s->out_len) ||
      s->in_len > UINT32_MAX || s->out_len > UINT32_MAX) {
    free(s);
    return throw_message(env, "gzip inflater: input and output must be Uint8Arrays under 4 GiB");
  }
  s->in = in;
  s->out = out;
  napi_value promise = queue_promised_work(env, "berth:gunzip", step_execute, step_complete, s, &s->deferred, &s->work);
  if (promise == NULL) {
    free(s);
    return NULL;
  }
  napi_create_reference(env, argv[0], 1, &s->handle_ref);
  napi_create_reference(env, argv[1], 1, &s->input_ref);
  napi_create_reference(env, argv[2], 1, &s->output_ref);
  inf->busy = true;
  return promise;
}

// gzipInflaterClose(handle): frees zlib's state now (or after the running step) rather than
// at garbage collection.
napi_value js_gzip_inflater_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], undefined;
  struct inflater *inf = inflater_arg(env, info, &argc, argv);
  if (inf == NULL) return NULL;
  inf->closed = true;
  if (!inf->busy) inflater_end(inf);
  napi_get_undefined(env, &undefined);
  return undefined;
}

// gzipInflaterSha256(handle) -> Buffer: the SHA-256 of everything produced; once, between steps.
napi_value js_gzip_inflater_sha256(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  struct inflater *inf = inflater_arg(env, info, &argc, argv);
  if (inf == NULL) return NULL;
  if (inf->sha256 == NULL) return throw_message(env, "gzip inflater: no digest (made without sha256, or already taken)");
  if (inf->busy) return throw_message(env, "gzip inflater: a step is running");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  int ok = EVP_DigestFinal_ex(inf->sha256, md, &len);
  EVP_MD_CTX_free(inf->sha256);
  inf->sha256 = NULL;
  if (ok != 1) return throw_message(env, "gzip inflater: SHA-256 final failed");
  void *copy;
  if (napi_create_buffer_copy(env, len, md, &copy, &result) != napi_ok) return NULL;
  return result;
}
