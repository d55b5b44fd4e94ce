/*
 * test_session.c: the Session C API: service and notification ordering on
 * detach and shutdown, C services and dispatchers, the in-process
 * controller, errors, shutdown from a task, dropped tasks, several Sessions,
 * nested blocking calls on the growing thread pool.
 */
#define _POSIX_C_SOURCE 200809L

#include "orc-rt.h"
#include "test_util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- an event log shared by every callback ---- */
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static char event_log[4096];

static void log_event(const char *e) {
  pthread_mutex_lock(&log_mutex);
  if (strlen(event_log) + strlen(e) + 2 < sizeof(event_log)) {
    strcat(event_log, e);
    strcat(event_log, ";");
  }
  pthread_mutex_unlock(&log_mutex);
}

static void log_reset(void) {
  pthread_mutex_lock(&log_mutex);
  event_log[0] = '\0';
  pthread_mutex_unlock(&log_mutex);
}

static int log_equals(const char *want) {
  int eq;
  pthread_mutex_lock(&log_mutex);
  eq = strcmp(event_log, want) == 0;
  if (!eq)
    fprintf(stderr, "log mismatch:\n  got:  %s\n  want: %s\n", event_log, want);
  pthread_mutex_unlock(&log_mutex);
  return eq;
}

/* ---- a C Service ---- */
typedef struct {
  const char *name;
  const char *shutdown_error; /* non-NULL: fail OnShutdown with this */
} MockService;

static void mock_on_detach(void *ctx, int shutdown_requested,
                           orc_rt_ServiceCompletionRef done) {
  MockService *m = (MockService *)ctx;
  char buf[64];
  snprintf(buf, sizeof(buf), "%s.detach(%d)", m->name, shutdown_requested);
  log_event(buf);
  orc_rt_ServiceCompletion_complete(done, NULL);
}

static void mock_on_shutdown(void *ctx, orc_rt_ServiceCompletionRef done) {
  MockService *m = (MockService *)ctx;
  char buf[64];
  snprintf(buf, sizeof(buf), "%s.shutdown", m->name);
  log_event(buf);
  orc_rt_ServiceCompletion_complete(
      done, m->shutdown_error ? orc_rt_StringError_create(m->shutdown_error)
                              : NULL);
}

static void mock_destroy(void *ctx) {
  MockService *m = (MockService *)ctx;
  char buf[64];
  snprintf(buf, sizeof(buf), "%s.destroy", m->name);
  log_event(buf);
}

static orc_rt_ServiceFunctions mock_fns(MockService *m) {
  orc_rt_ServiceFunctions f;
  f.Ctx = m;
  f.OnDetach = mock_on_detach;
  f.OnShutdown = mock_on_shutdown;
  f.Destroy = mock_destroy;
  return f;
}

/* ---- notification callbacks: Ctx is the event name ---- */
static void on_detach_cb(void *ctx, int shutdown_requested) {
  char buf[64];
  snprintf(buf, sizeof(buf), "%s(%d)", (const char *)ctx, shutdown_requested);
  log_event(buf);
}
static void on_event_cb(void *ctx) { log_event((const char *)ctx); }

static orc_rt_SessionRef make_session(size_t threads) {
  orc_rt_TaskDispatcherRef d = NULL;
  orc_rt_ErrorRef err = orc_rt_ThreadPoolTaskDispatcher_create(threads, &d);
  if (err) {
    char *m = orc_rt_Error_toString(err);
    fprintf(stderr, "thread pool: %s\n", m);
    orc_rt_Error_freeErrorMessage(m);
    return NULL;
  }
  return orc_rt_Session_create(d);
}

/* Returns 1 if err is a failure whose message contains `needle`
 * (consuming it). */
/* ---- test 1: ordering on shutdown ---- */
static void test_shutdown_ordering(void) {
  MockService a = {"A", NULL}, b = {"B", NULL};
  orc_rt_SessionRef s = make_session(2);
  orc_rt_NotificationServiceRef n1 = orc_rt_NotificationService_create();
  orc_rt_NotificationServiceRef n2 = orc_rt_NotificationService_create();
  REQUIRE_VOID(s != NULL);
  log_reset();
  CHECK(no_error(orc_rt_Session_addService(s, mock_fns(&a))));
  CHECK(no_error(orc_rt_Session_addNotificationService(s, n1)));
  CHECK(no_error(orc_rt_Session_addService(s, mock_fns(&b))));
  CHECK(no_error(orc_rt_Session_addNotificationService(s, n2)));
  orc_rt_NotificationService_addOnDetach(n1, on_detach_cb, (void *)"n1.d0");
  orc_rt_NotificationService_addOnDetach(n1, on_detach_cb, (void *)"n1.d1");
  orc_rt_NotificationService_addOnShutdown(n1, on_event_cb, (void *)"n1.s0");
  orc_rt_NotificationService_addOnShutdown(n1, on_event_cb, (void *)"n1.s1");
  orc_rt_NotificationService_addOnDetach(n2, on_detach_cb, (void *)"n2.d0");
  orc_rt_NotificationService_addOnShutdown(n2, on_event_cb, (void *)"n2.s0");
  orc_rt_NotificationService_addOnShutdown(n2, on_event_cb, (void *)"n2.s1");
  /* The caller's references may go at any time; the Session keeps its own. */
  orc_rt_NotificationService_dispose(n2);

  orc_rt_Session_shutdown(s, on_event_cb, (void *)"done1");
  orc_rt_Session_shutdown(s, on_event_cb, (void *)"done2");
  CHECK(no_error(orc_rt_Session_waitForShutdown(s)));
  orc_rt_Session_shutdown(s, on_event_cb, (void *)"late");
  /* After shutdown: a new callback runs at once; services are refused. */
  orc_rt_NotificationService_addOnShutdown(n1, on_event_cb, (void *)"n1.after");
  CHECK(error_contains(orc_rt_Session_addService(s, mock_fns(&a)),
                       "session is shut down"));
  CHECK(log_equals("n2.d0(1);B.detach(1);n1.d1(1);n1.d0(1);A.detach(1);"
                   "n2.s1;n2.s0;B.shutdown;n1.s1;n1.s0;A.shutdown;"
                   "done1;done2;late;n1.after;A.destroy;"));
  log_reset();
  orc_rt_Session_destroy(s);
  /* Services are released, once each, when the Session goes. */
  CHECK(strstr(event_log, "A.destroy") && strstr(event_log, "B.destroy"));
  orc_rt_NotificationService_dispose(n1);
}

/* ---- the in-process controller ---- */
static void reverse_handler(void *ctx, orc_rt_WrapperFunctionBuffer args,
                            orc_rt_ControllerResponderRef r) {
  size_t n = orc_rt_WrapperFunctionBufferSize(&args), i;
  const char *in = orc_rt_WrapperFunctionBufferConstData(&args);
  orc_rt_WrapperFunctionBuffer out = orc_rt_WrapperFunctionBufferAllocate(n);
  char *o = orc_rt_WrapperFunctionBufferData(&out);
  (void)ctx;
  for (i = 0; i < n; ++i)
    o[i] = in[n - 1 - i];
  orc_rt_WrapperFunctionBufferDispose(&args);
  orc_rt_ControllerResponder_respond(r, out);
}

typedef struct {
  pthread_mutex_t m;
  pthread_cond_t cv;
  int done;
  orc_rt_WrapperFunctionBuffer result;
} Slot;

static void slot_init(Slot *s) {
  pthread_mutex_init(&s->m, NULL);
  pthread_cond_init(&s->cv, NULL);
  s->done = 0;
  orc_rt_WrapperFunctionBufferInit(&s->result);
}
static void slot_fini(Slot *s) {
  orc_rt_WrapperFunctionBufferDispose(&s->result);
  pthread_mutex_destroy(&s->m);
  pthread_cond_destroy(&s->cv);
}
static void slot_set(Slot *s, orc_rt_WrapperFunctionBuffer r) {
  pthread_mutex_lock(&s->m);
  s->result = r;
  s->done++;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->m);
}
static void slot_wait(Slot *s) {
  pthread_mutex_lock(&s->m);
  while (!s->done)
    pthread_cond_wait(&s->cv, &s->m);
  pthread_mutex_unlock(&s->m);
}
static void call_controller_return(orc_rt_SessionRef S,
                                   orc_rt_WrapperFunctionBuffer result,
                                   void *ctx) {
  (void)S;
  slot_set((Slot *)ctx, result);
}
static void result_to_slot(void *ctx, orc_rt_WrapperFunctionBuffer result) {
  slot_set((Slot *)ctx, result);
}

static int slot_is(Slot *s, const char *bytes, size_t n) {
  return orc_rt_WrapperFunctionBufferSize(&s->result) == n &&
         memcmp(orc_rt_WrapperFunctionBufferConstData(&s->result), bytes, n) == 0;
}
static int slot_error_contains(Slot *s, const char *needle) {
  const char *e = orc_rt_WrapperFunctionBufferGetOutOfBandError(&s->result);
  if (!e || !strstr(e, needle)) {
    fprintf(stderr, "expected an error containing \"%s\", got %s\n", needle,
            e ? e : "(no error)");
    return 0;
  }
  return 1;
}

/* LLVM 22 synchronous ABI: returns the arguments plus one to each byte. */
static orc_rt_WrapperFunctionBuffer add_one_sync(const char *data, size_t size) {
  orc_rt_WrapperFunctionBuffer out = orc_rt_WrapperFunctionBufferAllocate(size);
  char *o = orc_rt_WrapperFunctionBufferData(&out);
  size_t i;
  for (i = 0; i < size; ++i)
    o[i] = (char)(data[i] + 1);
  return out;
}

static orc_rt_WrapperFunctionBuffer str_buf(const char *s) {
  return orc_rt_CreateWrapperFunctionBufferFromRange(s, strlen(s));
}

static void test_controller_and_detach(void) {
  MockService a = {"A", NULL};
  orc_rt_SessionRef s = make_session(2);
  orc_rt_InProcessControllerRef c = orc_rt_InProcessController_create();
  orc_rt_WrapperFunctionBuffer r;
  Slot slot;
  REQUIRE_VOID(s != NULL);
  log_reset();
  CHECK(no_error(orc_rt_Session_addService(s, mock_fns(&a))));
  orc_rt_InProcessController_addHandler(c, (orc_rt_ControllerHandlerTag)0x10,
                                        reverse_handler, NULL);

  /* Not attached yet: immediate "detached" error. */
  slot_init(&slot);
  orc_rt_Session_callController(s, (orc_rt_ControllerHandlerTag)0x10,
                                str_buf("abc"), call_controller_return, &slot);
  CHECK(slot.done == 1 && slot_error_contains(&slot, "controller is detached"));
  slot_fini(&slot);

  CHECK(no_error(orc_rt_Session_attachInProcessController(s, c)));
  CHECK(error_contains(orc_rt_Session_attachInProcessController(s, c),
                       "already attached"));
  slot_init(&slot);
  orc_rt_Session_callController(s, (orc_rt_ControllerHandlerTag)0x10,
                                str_buf("abc"), call_controller_return, &slot);
  slot_wait(&slot);
  CHECK(slot_is(&slot, "cba", 3));
  slot_fini(&slot);

  slot_init(&slot);
  orc_rt_Session_callController(s, (orc_rt_ControllerHandlerTag)0x99,
                                str_buf("abc"), call_controller_return, &slot);
  CHECK(slot.done == 1 && slot_error_contains(&slot, "no handler registered"));
  slot_fini(&slot);

  /* Executor calls, both ABIs. */
  r = orc_rt_InProcessController_callWrapperSync(c, echo_wf,
                                                 str_buf("hello, session"));
  CHECK(orc_rt_WrapperFunctionBufferSize(&r) == 14 &&
        memcmp(orc_rt_WrapperFunctionBufferConstData(&r), "hello, session", 14) == 0);
  orc_rt_WrapperFunctionBufferDispose(&r);
  slot_init(&slot);
  orc_rt_InProcessController_callWrapperAtAddress(
      c, (uint64_t)(uintptr_t)add_one_sync, 1, str_buf("HAL"), result_to_slot,
      &slot);
  slot_wait(&slot);
  CHECK(slot_is(&slot, "IBM", 3));
  slot_fini(&slot);
  slot_init(&slot);
  orc_rt_InProcessController_callWrapperAtAddress(
      c, (uint64_t)(uintptr_t)echo_wf, 0, str_buf("by address"),
      result_to_slot, &slot);
  slot_wait(&slot);
  CHECK(slot_is(&slot, "by address", 10));
  slot_fini(&slot);
  slot_init(&slot);
  orc_rt_InProcessController_callWrapperAtAddress(c, 0, 0, str_buf("x"),
                                                  result_to_slot, &slot);
  CHECK(slot.done == 1 && slot_error_contains(&slot, "address 0"));
  slot_fini(&slot);

  /* The controller goes away: detach, not shutdown. */
  orc_rt_Session_detach(s, on_event_cb, (void *)"detached");
  orc_rt_InProcessController_disconnect(c);
  orc_rt_Session_waitForDetach(s); /* completion callbacks have run */
  CHECK(log_equals("A.detach(0);detached;"));
  slot_init(&slot);
  orc_rt_Session_callController(s, (orc_rt_ControllerHandlerTag)0x10,
                                str_buf("abc"), call_controller_return, &slot);
  CHECK(slot.done == 1 && slot_error_contains(&slot, "controller is detached"));
  slot_fini(&slot);
  r = orc_rt_InProcessController_callWrapperSync(c, echo_wf, str_buf("late"));
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(&r) != NULL);
  orc_rt_WrapperFunctionBufferDispose(&r);

  /* Destroy shuts down and waits. */
  orc_rt_Session_destroy(s);
  CHECK(log_equals("A.detach(0);detached;A.shutdown;A.destroy;"));
  orc_rt_InProcessController_dispose(c);
}

/* ---- errors go to the reporter ---- */
static pthread_mutex_t report_mutex = PTHREAD_MUTEX_INITIALIZER;
static char reported[1024];
static void reporter(void *ctx, const char *msg) {
  (void)ctx;
  pthread_mutex_lock(&report_mutex);
  if (strlen(reported) + strlen(msg) + 2 < sizeof(reported)) {
    strcat(reported, msg);
    strcat(reported, "|");
  }
  pthread_mutex_unlock(&report_mutex);
}

static void test_errors(void) {
  MockService bad = {"Bad", "disk on fire"};
  orc_rt_SessionRef s = make_session(1);
  Slot slot;
  REQUIRE_VOID(s != NULL);
  reported[0] = '\0';
  orc_rt_Session_setErrorReporter(s, reporter, NULL);
  CHECK(no_error(orc_rt_Session_addService(s, mock_fns(&bad))));
  orc_rt_Session_reportError(s, orc_rt_StringError_create("by hand"));
  orc_rt_Session_shutdown(s, NULL, NULL);
  CHECK(no_error(orc_rt_Session_waitForShutdown(s)));
  CHECK(strstr(reported, "by hand|") != NULL);
  CHECK(strstr(reported, "disk on fire") != NULL);
  orc_rt_Session_destroy(s);

  /* Invalid handles: errors, not crashes. */
  CHECK(error_contains(orc_rt_Session_waitForShutdown(NULL), "invalid"));
  CHECK(error_contains(orc_rt_Session_addNotificationService(NULL, NULL), "NULL"));
  CHECK(error_contains(orc_rt_Session_waitForShutdown(s), "destroyed"));
  slot_init(&slot);
  orc_rt_Session_callController(NULL, NULL, str_buf("x"), call_controller_return,
                                &slot);
  CHECK(slot.done == 1 && slot_error_contains(&slot, "invalid"));
  slot_fini(&slot);
  orc_rt_Session_destroy(NULL);
  {
    orc_rt_ServiceFunctions none;
    memset(&none, 0, sizeof(none));
    CHECK(error_contains(orc_rt_Session_addService(NULL, none), "invalid"));
  }
}

/* ---- shutdown from inside a task ---- */
typedef struct {
  orc_rt_SessionRef s;
  Slot done;
  int wait_refused;
} ShutdownFromTask;

static void on_shutdown_done(void *ctx) {
  slot_set(&((ShutdownFromTask *)ctx)->done, orc_rt_WrapperFunctionBufferAllocate(0));
}

static void shutdown_task(void *ctx) {
  ShutdownFromTask *t = (ShutdownFromTask *)ctx;
  orc_rt_Session_shutdown(t->s, on_shutdown_done, t);
  /* Waiting here would deadlock: refused. */
  t->wait_refused = error_contains(orc_rt_Session_waitForShutdown(t->s), "deadlock");
}

static void test_shutdown_from_task(void) {
  ShutdownFromTask t;
  t.s = make_session(2);
  REQUIRE_VOID(t.s != NULL);
  t.wait_refused = 0;
  slot_init(&t.done);
  CHECK(no_error(orc_rt_Session_dispatch(t.s, shutdown_task, NULL, &t)));
  slot_wait(&t.done);
  CHECK(t.wait_refused);
  CHECK(no_error(orc_rt_Session_waitForShutdown(t.s)));
  orc_rt_Session_destroy(t.s);
  slot_fini(&t.done);
}

/* ---- tasks queued at shutdown are disposed, not run or leaked ---- */
static pthread_mutex_t count_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t count_cv = PTHREAD_COND_INITIALIZER;
static int ran_count, disposed_count, blocker_started;

static void counted_run(void *ctx) {
  (void)ctx;
  pthread_mutex_lock(&count_mutex);
  ran_count++;
  pthread_mutex_unlock(&count_mutex);
}
static void counted_dispose(void *ctx) {
  (void)ctx;
  pthread_mutex_lock(&count_mutex);
  disposed_count++;
  pthread_cond_broadcast(&count_cv);
  pthread_mutex_unlock(&count_mutex);
}
static void blocker(void *ctx) {
  (void)ctx;
  pthread_mutex_lock(&count_mutex);
  blocker_started = 1;
  pthread_cond_broadcast(&count_cv);
  while (disposed_count == 0) /* released when the queue is dropped */
    pthread_cond_wait(&count_cv, &count_mutex);
  pthread_mutex_unlock(&count_mutex);
}

static void test_dropped_tasks(void) {
  orc_rt_SessionRef s = make_session(1);
  int i;
  REQUIRE_VOID(s != NULL);
  ran_count = disposed_count = blocker_started = 0;
  CHECK(no_error(orc_rt_Session_dispatch(s, blocker, NULL, NULL)));
  pthread_mutex_lock(&count_mutex);
  while (!blocker_started)
    pthread_cond_wait(&count_cv, &count_mutex);
  pthread_mutex_unlock(&count_mutex);
  for (i = 0; i < 50; ++i)
    CHECK(no_error(orc_rt_Session_dispatch(s, counted_run, counted_dispose, NULL)));
  orc_rt_Session_shutdown(s, NULL, NULL);
  CHECK(no_error(orc_rt_Session_waitForShutdown(s)));
  CHECK(ran_count == 0);
  CHECK(disposed_count == 50);
  CHECK(no_error(orc_rt_Session_dispatch(s, counted_run, counted_dispose, NULL)));
  CHECK(ran_count == 0 && disposed_count == 51);
  orc_rt_Session_destroy(s);
}

/* ---- a dispatcher written in C ---- */
typedef struct {
  pthread_mutex_t m;
  int shut_down, dispatched, destroyed;
} CDispatcher;

static void cd_dispatch(void *ctx, orc_rt_TaskRef t) {
  CDispatcher *d = (CDispatcher *)ctx;
  int run;
  pthread_mutex_lock(&d->m);
  run = !d->shut_down;
  d->dispatched++;
  pthread_mutex_unlock(&d->m);
  if (run)
    orc_rt_Task_run(t);
  else
    orc_rt_Task_dispose(t);
}
static void cd_shutdown(void *ctx) {
  CDispatcher *d = (CDispatcher *)ctx;
  pthread_mutex_lock(&d->m);
  d->shut_down = 1;
  pthread_mutex_unlock(&d->m);
}
static void cd_destroy(void *ctx) { ((CDispatcher *)ctx)->destroyed++; }

static void test_c_dispatcher_and_several_sessions(void) {
  CDispatcher cd;
  orc_rt_TaskDispatcherFunctions fns;
  orc_rt_SessionRef s[3];
  orc_rt_InProcessControllerRef c[3];
  orc_rt_WrapperFunctionBuffer r;
  int i;
  memset(&cd, 0, sizeof(cd));
  pthread_mutex_init(&cd.m, NULL);
  fns.Ctx = &cd;
  fns.Dispatch = cd_dispatch;
  fns.Shutdown = cd_shutdown;
  fns.Destroy = cd_destroy;
  s[0] = orc_rt_Session_create(orc_rt_TaskDispatcher_createCustom(fns));
  s[1] = make_session(1);
  s[2] = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  fns.Dispatch = NULL;
  CHECK(orc_rt_TaskDispatcher_createCustom(fns) == NULL);
  for (i = 0; i < 3; ++i) {
    REQUIRE_VOID(s[i] != NULL);
    c[i] = orc_rt_InProcessController_create();
    CHECK(no_error(orc_rt_Session_attachInProcessController(s[i], c[i])));
  }
  for (i = 0; i < 3; ++i) {
    r = orc_rt_InProcessController_callWrapperSync(c[i], echo_wf, str_buf("ping"));
    CHECK(orc_rt_WrapperFunctionBufferSize(&r) == 4);
    orc_rt_WrapperFunctionBufferDispose(&r);
  }
  CHECK(cd.dispatched == 1);
  /* Shut the middle one down; the others keep serving. */
  orc_rt_Session_shutdown(s[1], NULL, NULL);
  CHECK(no_error(orc_rt_Session_waitForShutdown(s[1])));
  for (i = 0; i < 3; ++i) {
    r = orc_rt_InProcessController_callWrapperSync(c[i], echo_wf, str_buf("ping"));
    if (i == 1)
      CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(&r) != NULL);
    else
      CHECK(orc_rt_WrapperFunctionBufferSize(&r) == 4);
    orc_rt_WrapperFunctionBufferDispose(&r);
  }
  for (i = 0; i < 3; ++i) {
    orc_rt_Session_destroy(s[i]);
    orc_rt_InProcessController_dispose(c[i]);
  }
  CHECK(cd.shut_down == 1);
  CHECK(cd.destroyed == 1);
  CHECK(cd.dispatched == 2);
  pthread_mutex_destroy(&cd.m);
}

/* ---- notification rule 3: registering from inside a callback ---- */
static orc_rt_NotificationServiceRef nested_service;
static void registers_more(void *ctx, int shutdown_requested) {
  on_detach_cb(ctx, shutdown_requested);
  orc_rt_NotificationService_addOnDetach(nested_service, on_detach_cb,
                                         (void *)"nested");
}

static void test_nested_registration(void) {
  orc_rt_SessionRef s = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  REQUIRE_VOID(s != NULL);
  nested_service = orc_rt_NotificationService_create();
  log_reset();
  CHECK(no_error(orc_rt_Session_addNotificationService(s, nested_service)));
  orc_rt_NotificationService_addOnDetach(nested_service, on_detach_cb, (void *)"first");
  orc_rt_NotificationService_addOnDetach(nested_service, registers_more, (void *)"second");
  orc_rt_NotificationService_addOnDetach(nested_service, on_detach_cb, (void *)"third");
  orc_rt_Session_detach(s, on_event_cb, (void *)"detached");
  orc_rt_Session_waitForDetach(s);
  orc_rt_Session_shutdown(s, NULL, NULL);
  CHECK(no_error(orc_rt_Session_waitForShutdown(s)));
  /* After the event: runs at once with the recorded flag. */
  orc_rt_NotificationService_addOnDetach(nested_service, on_detach_cb, (void *)"late");
  CHECK(log_equals("third(0);second(0);nested(0);first(0);detached;late(0);"));
  orc_rt_Session_destroy(s);
  orc_rt_NotificationService_dispose(nested_service);
}

/* ---- growing pool: nested blocking calls deeper than any fixed pool ---- */
static orc_rt_InProcessControllerRef nest_controller;

static orc_rt_WrapperFunctionBuffer nest_sync(const char *data, size_t size);

/* Calls nest_sync through the controller and blocks for its result. */
static orc_rt_WrapperFunctionBuffer call_nest(char depth) {
  Slot slot;
  orc_rt_WrapperFunctionBuffer out;
  slot_init(&slot);
  orc_rt_InProcessController_callWrapperAtAddress(
      nest_controller, (uint64_t)(uintptr_t)nest_sync, 1,
      orc_rt_CreateWrapperFunctionBufferFromRange(&depth, 1), result_to_slot,
      &slot);
  slot_wait(&slot);
  out = slot.result;
  orc_rt_WrapperFunctionBufferInit(&slot.result);
  slot_fini(&slot);
  return out;
}

/* LLVM 22 synchronous ABI. The argument is one byte, the remaining depth;
   above 0 it calls itself through the controller with one less and blocks
   until that call returns, keeping a worker busy at every level. */
static orc_rt_WrapperFunctionBuffer nest_sync(const char *data, size_t size) {
  if (size != 1)
    return orc_rt_CreateWrapperFunctionBufferFromOutOfBandError("nest: bad args");
  if (data[0] == 0)
    return str_buf("bottom");
  return call_nest((char)(data[0] - 1));
}

static void test_growing_pool(void) {
  orc_rt_WrapperFunctionBuffer r;
  orc_rt_TaskDispatcherRef d = orc_rt_GrowingThreadPoolTaskDispatcher_create();
  orc_rt_SessionRef s;
  REQUIRE_VOID(d != NULL);
  /* One never used is disposed cleanly. */
  orc_rt_TaskDispatcher_dispose(orc_rt_GrowingThreadPoolTaskDispatcher_create());
  s = orc_rt_Session_create(d);
  REQUIRE_VOID(s != NULL);
  nest_controller = orc_rt_InProcessController_create();
  CHECK(no_error(orc_rt_Session_attachInProcessController(s, nest_controller)));
  r = call_nest(20);
  CHECK(orc_rt_WrapperFunctionBufferSize(&r) == 6 &&
        memcmp(orc_rt_WrapperFunctionBufferConstData(&r), "bottom", 6) == 0);
  orc_rt_WrapperFunctionBufferDispose(&r);
  orc_rt_Session_destroy(s);
  orc_rt_InProcessController_dispose(nest_controller);
}

int main(void) {
  test_shutdown_ordering();
  test_controller_and_detach();
  test_errors();
  test_shutdown_from_task();
  test_dropped_tasks();
  test_c_dispatcher_and_several_sessions();
  test_nested_registration();
  test_growing_pool();
  TEST_FINISH("session");
}
