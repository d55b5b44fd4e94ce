/*
 * session_host.c: a host program that loads liborc_rt.so at run time with
 * dlopen and drives a Session through the C API:
 *
 *   - creates a Session on a two-worker thread pool,
 *   - adds a C Service and a notification service with callbacks,
 *   - attaches the in-process controller with one handler,
 *   - calls an executor wrapper function (native ABI) from the controller
 *     and the controller's handler from the executor side,
 *   - shuts down and checks the order of the notifications.
 *
 * Usage: session_host /path/to/liborc_rt.so
 * Prints what happens; exits 0 if every step behaved as expected.
 * Built and run by scripts/test-session.sh.
 */
#define _POSIX_C_SOURCE 200809L

#include "orc-rt.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the C API, resolved with dlsym ---- */
static struct {
  orc_rt_ErrorRef (*ThreadPool_create)(size_t, orc_rt_TaskDispatcherRef *);
  orc_rt_SessionRef (*Session_create)(orc_rt_TaskDispatcherRef);
  void (*Session_destroy)(orc_rt_SessionRef);
  orc_rt_ErrorRef (*Session_addService)(orc_rt_SessionRef, orc_rt_ServiceFunctions);
  orc_rt_ErrorRef (*Session_addNotificationService)(orc_rt_SessionRef,
                                                    orc_rt_NotificationServiceRef);
  orc_rt_ErrorRef (*Session_attachInProcessController)(orc_rt_SessionRef,
                                                       orc_rt_InProcessControllerRef);
  void (*Session_callController)(orc_rt_SessionRef, orc_rt_ControllerHandlerTag,
                                 orc_rt_WrapperFunctionBuffer,
                                 orc_rt_Session_CallControllerReturn, void *);
  void (*Session_shutdown)(orc_rt_SessionRef, orc_rt_Session_OnCompleteFn, void *);
  orc_rt_ErrorRef (*Session_waitForShutdown)(orc_rt_SessionRef);
  void (*ServiceCompletion_complete)(orc_rt_ServiceCompletionRef, orc_rt_ErrorRef);
  orc_rt_NotificationServiceRef (*Notification_create)(void);
  void (*Notification_dispose)(orc_rt_NotificationServiceRef);
  void (*Notification_addOnDetach)(orc_rt_NotificationServiceRef,
                                   orc_rt_NotificationService_OnDetachFn, void *);
  void (*Notification_addOnShutdown)(orc_rt_NotificationServiceRef,
                                     orc_rt_NotificationService_OnShutdownFn, void *);
  orc_rt_InProcessControllerRef (*Controller_create)(void);
  void (*Controller_dispose)(orc_rt_InProcessControllerRef);
  void (*Controller_addHandler)(orc_rt_InProcessControllerRef,
                                orc_rt_ControllerHandlerTag,
                                orc_rt_InProcessController_HandlerFn, void *);
  orc_rt_WrapperFunctionBuffer (*Controller_callWrapperSync)(
      orc_rt_InProcessControllerRef, orc_rt_WrapperFunction,
      orc_rt_WrapperFunctionBuffer);
  void (*Responder_respond)(orc_rt_ControllerResponderRef, orc_rt_WrapperFunctionBuffer);
  orc_rt_WrapperFunctionBuffer (*Buffer_fromRange)(const char *, size_t);
  void (*Buffer_dispose)(orc_rt_WrapperFunctionBuffer *);
  const char *(*Buffer_constData)(const orc_rt_WrapperFunctionBuffer *);
  size_t (*Buffer_size)(const orc_rt_WrapperFunctionBuffer *);
  const char *(*Buffer_oobError)(const orc_rt_WrapperFunctionBuffer *);
  char *(*Error_toString)(orc_rt_ErrorRef);
  void (*Error_freeErrorMessage)(char *);
} api;

static int resolve(void *lib, const char *name, void *slot) {
  void *p = dlsym(lib, name);
  if (!p) {
    fprintf(stderr, "session_host: missing symbol %s\n", name);
    return 0;
  }
  /* POSIX: a data pointer from dlsym may be stored into a function pointer. */
  memcpy(slot, &p, sizeof(p));
  return 1;
}

static int load_api(void *lib) {
  int ok = 1;
#define R(field, sym) ok &= resolve(lib, sym, (void *)&api.field)
  R(ThreadPool_create, "orc_rt_ThreadPoolTaskDispatcher_create");
  R(Session_create, "orc_rt_Session_create");
  R(Session_destroy, "orc_rt_Session_destroy");
  R(Session_addService, "orc_rt_Session_addService");
  R(Session_addNotificationService, "orc_rt_Session_addNotificationService");
  R(Session_attachInProcessController, "orc_rt_Session_attachInProcessController");
  R(Session_callController, "orc_rt_Session_callController");
  R(Session_shutdown, "orc_rt_Session_shutdown");
  R(Session_waitForShutdown, "orc_rt_Session_waitForShutdown");
  R(ServiceCompletion_complete, "orc_rt_ServiceCompletion_complete");
  R(Notification_create, "orc_rt_NotificationService_create");
  R(Notification_dispose, "orc_rt_NotificationService_dispose");
  R(Notification_addOnDetach, "orc_rt_NotificationService_addOnDetach");
  R(Notification_addOnShutdown, "orc_rt_NotificationService_addOnShutdown");
  R(Controller_create, "orc_rt_InProcessController_create");
  R(Controller_dispose, "orc_rt_InProcessController_dispose");
  R(Controller_addHandler, "orc_rt_InProcessController_addHandler");
  R(Controller_callWrapperSync, "orc_rt_InProcessController_callWrapperSync");
  R(Responder_respond, "orc_rt_ControllerResponder_respond");
  R(Buffer_fromRange, "orc_rt_CreateWrapperFunctionBufferFromRange");
  R(Buffer_dispose, "orc_rt_WrapperFunctionBufferDispose");
  R(Buffer_constData, "orc_rt_WrapperFunctionBufferConstData");
  R(Buffer_size, "orc_rt_WrapperFunctionBufferSize");
  R(Buffer_oobError, "orc_rt_WrapperFunctionBufferGetOutOfBandError");
  R(Error_toString, "orc_rt_Error_toString");
  R(Error_freeErrorMessage, "orc_rt_Error_freeErrorMessage");
#undef R
  return ok;
}

/* ---- event log ---- */
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static char events[1024];
static void event(const char *e) {
  pthread_mutex_lock(&log_mutex);
  printf("  event: %s\n", e);
  if (strlen(events) + strlen(e) + 2 < sizeof(events)) {
    strcat(events, e);
    strcat(events, ";");
  }
  pthread_mutex_unlock(&log_mutex);
}

static int failures = 0;
static void expect(int cond, const char *what) {
  printf("%s: %s\n", cond ? "ok" : "FAILED", what);
  if (!cond)
    failures++;
}
static int no_error(orc_rt_ErrorRef e) {
  char *m;
  if (!e)
    return 1;
  m = api.Error_toString(e);
  fprintf(stderr, "session_host: error: %s\n", m);
  api.Error_freeErrorMessage(m);
  return 0;
}

/* ---- a Service: releases its "resource" on shutdown ---- */
static void cache_on_detach(void *ctx, int shutdown_requested,
                            orc_rt_ServiceCompletionRef done) {
  (void)ctx;
  event(shutdown_requested ? "cache: detach (shutting down)" : "cache: detach");
  api.ServiceCompletion_complete(done, NULL);
}
static void cache_on_shutdown(void *ctx, orc_rt_ServiceCompletionRef done) {
  free(ctx);
  event("cache: shutdown, memory released");
  api.ServiceCompletion_complete(done, NULL);
}

static void on_detach_note(void *ctx, int shutdown_requested) {
  (void)shutdown_requested;
  event((const char *)ctx);
}
static void on_shutdown_note(void *ctx) { event((const char *)ctx); }

/* ---- executor wrapper function (native ABI): sums bytes ---- */
static void sum_bytes(orc_rt_SessionRef S, uint64_t CallId,
                      orc_rt_WrapperFunctionReturn Return,
                      orc_rt_WrapperFunctionBuffer ArgBytes) {
  const unsigned char *p = (const unsigned char *)api.Buffer_constData(&ArgBytes);
  size_t n = api.Buffer_size(&ArgBytes), i;
  unsigned sum = 0;
  char out[32];
  for (i = 0; i < n; ++i)
    sum += p[i];
  snprintf(out, sizeof(out), "%u", sum);
  api.Buffer_dispose(&ArgBytes);
  Return(S, CallId, api.Buffer_fromRange(out, strlen(out)));
}

/* ---- controller handler: greets ---- */
static void greet_handler(void *ctx, orc_rt_WrapperFunctionBuffer args,
                          orc_rt_ControllerResponderRef r) {
  char out[128];
  (void)ctx;
  snprintf(out, sizeof(out), "hello, %.*s", (int)api.Buffer_size(&args),
           api.Buffer_constData(&args));
  api.Buffer_dispose(&args);
  api.Responder_respond(r, api.Buffer_fromRange(out, strlen(out)));
}

static pthread_mutex_t reply_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reply_cv = PTHREAD_COND_INITIALIZER;
static int reply_done = 0;
static char reply_text[128];
static void on_reply(orc_rt_SessionRef S, orc_rt_WrapperFunctionBuffer result,
                     void *ctx) {
  const char *err = api.Buffer_oobError(&result);
  (void)S;
  (void)ctx;
  pthread_mutex_lock(&reply_mutex);
  if (err)
    snprintf(reply_text, sizeof(reply_text), "error: %s", err);
  else
    snprintf(reply_text, sizeof(reply_text), "%.*s", (int)api.Buffer_size(&result),
             api.Buffer_constData(&result));
  reply_done = 1;
  pthread_cond_broadcast(&reply_cv);
  pthread_mutex_unlock(&reply_mutex);
  api.Buffer_dispose(&result);
}

int main(int argc, char **argv) {
  void *lib;
  orc_rt_TaskDispatcherRef pool = NULL;
  orc_rt_SessionRef s;
  orc_rt_NotificationServiceRef notes;
  orc_rt_InProcessControllerRef ctl;
  orc_rt_ServiceFunctions cache;
  orc_rt_WrapperFunctionBuffer r;

  if (argc != 2) {
    fprintf(stderr, "usage: %s /path/to/liborc_rt.so\n", argv[0]);
    return 2;
  }
  lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "session_host: dlopen: %s\n", dlerror());
    return 1;
  }
  if (!load_api(lib))
    return 1;
  printf("loaded %s\n", argv[1]);

  expect(no_error(api.ThreadPool_create(2, &pool)), "thread pool created");
  s = api.Session_create(pool);
  expect(s != NULL, "session created");
  if (!s)
    return 1;

  cache.Ctx = malloc(4096);
  cache.OnDetach = cache_on_detach;
  cache.OnShutdown = cache_on_shutdown;
  cache.Destroy = NULL;
  expect(no_error(api.Session_addService(s, cache)), "service added");

  notes = api.Notification_create();
  api.Notification_addOnDetach(notes, on_detach_note, (void *)"note: detach #1");
  api.Notification_addOnDetach(notes, on_detach_note, (void *)"note: detach #2");
  api.Notification_addOnShutdown(notes, on_shutdown_note, (void *)"note: shutdown");
  expect(no_error(api.Session_addNotificationService(s, notes)),
         "notification service added");

  ctl = api.Controller_create();
  api.Controller_addHandler(ctl, (orc_rt_ControllerHandlerTag)0x1, greet_handler, NULL);
  expect(no_error(api.Session_attachInProcessController(s, ctl)),
         "in-process controller attached");

  r = api.Controller_callWrapperSync(ctl, sum_bytes, api.Buffer_fromRange("\x01\x02\x03\x04", 4));
  printf("  controller -> executor sum_bytes(1,2,3,4) = %.*s\n", (int)api.Buffer_size(&r),
         api.Buffer_constData(&r));
  expect(api.Buffer_size(&r) == 2 && memcmp(api.Buffer_constData(&r), "10", 2) == 0,
         "executor call returned 10");
  api.Buffer_dispose(&r);

  api.Session_callController(s, (orc_rt_ControllerHandlerTag)0x1,
                             api.Buffer_fromRange("world", 5), on_reply, NULL);
  pthread_mutex_lock(&reply_mutex);
  while (!reply_done)
    pthread_cond_wait(&reply_cv, &reply_mutex);
  pthread_mutex_unlock(&reply_mutex);
  printf("  executor -> controller greet(\"world\") = %s\n", reply_text);
  expect(strcmp(reply_text, "hello, world") == 0, "controller call returned greeting");

  api.Session_shutdown(s, on_shutdown_note, (void *)"session: shut down");
  expect(no_error(api.Session_waitForShutdown(s)), "shutdown completed");
  /* Added last, the notification service is told first: detach callbacks
   * newest first, then the cache service; shutdown in the same order. */
  expect(strcmp(events, "note: detach #2;note: detach #1;"
                        "cache: detach (shutting down);note: shutdown;"
                        "cache: shutdown, memory released;session: shut down;") == 0,
         "notifications in the documented order");

  r = api.Controller_callWrapperSync(ctl, sum_bytes, api.Buffer_fromRange("x", 1));
  printf("  call after shutdown -> %s\n",
         api.Buffer_oobError(&r) ? api.Buffer_oobError(&r) : "(a value?)");
  expect(api.Buffer_oobError(&r) != NULL, "call after shutdown is refused");
  api.Buffer_dispose(&r);

  api.Session_destroy(s);
  api.Notification_dispose(notes);
  api.Controller_dispose(ctl);
  printf("%s\n", failures ? "session_host: FAILED" : "session_host: all steps ok");
  /* liborc_rt.so stays loaded: its worker threads have exited, but
   * unloading a Rust library is not supported. */
  return failures ? 1 : 0;
}
