/*
 * test_log.c: the logging C API through the public header.
 *
 * Covers the level and category names (upstream orc-rt's functions), the
 * threshold setter, and a log callback: a refused handle (category General)
 * and a Session error with no reporter set (category Session) reach it with
 * their level, category and text; a threshold of OFF stops them; a NULL
 * callback restores stderr.
 */
#include "orc-rt.h"
#include "test_util.h"

#include <string.h>

#define MAX_TEXT 512

typedef struct {
  int Count;
  orc_rt_log_Level Level;
  orc_rt_log_Category Category;
  char Text[MAX_TEXT];
} Recorded;

static void record(void *Ctx, orc_rt_log_Level Level, orc_rt_log_Category Category,
                   const char *Message) {
  Recorded *R = (Recorded *)Ctx;
  ++R->Count;
  R->Level = Level;
  R->Category = Category;
  strncpy(R->Text, Message ? Message : "(null)", MAX_TEXT - 1);
  R->Text[MAX_TEXT - 1] = '\0';
}

static void reset(Recorded *R) { memset(R, 0, sizeof *R); }

static void test_names(void) {
  CHECK_STREQ(orc_rt_log_Level_getName(ORC_RT_LOG_LEVEL_DEBUG), "DEBUG");
  CHECK_STREQ(orc_rt_log_Level_getName(ORC_RT_LOG_LEVEL_INFO), "INFO");
  CHECK_STREQ(orc_rt_log_Level_getName(ORC_RT_LOG_LEVEL_WARNING), "WARNING");
  CHECK_STREQ(orc_rt_log_Level_getName(ORC_RT_LOG_LEVEL_ERROR), "ERROR");
  CHECK_STREQ(orc_rt_log_Level_getName(ORC_RT_LOG_LEVEL_OFF), "OFF");
  CHECK(orc_rt_log_Level_getName(-1) == NULL);
  CHECK(orc_rt_log_Level_getName(ORC_RT_LOG_LEVEL_COUNT) == NULL);

  CHECK(orc_rt_log_Level_parse("warning") == ORC_RT_LOG_LEVEL_WARNING);
  CHECK(orc_rt_log_Level_parse("Error") == ORC_RT_LOG_LEVEL_ERROR);
  CHECK(orc_rt_log_Level_parse("OFF") == ORC_RT_LOG_LEVEL_OFF);
  CHECK(orc_rt_log_Level_parse("verbose") == -1);
  CHECK(orc_rt_log_Level_parse("") == -1);
  CHECK(orc_rt_log_Level_parse(NULL) == -1);

  CHECK_STREQ(orc_rt_log_Category_getName(orc_rt_log_Category_General), "General");
  CHECK_STREQ(orc_rt_log_Category_getName(orc_rt_log_Category_ControllerAccess),
              "ControllerAccess");
  CHECK_STREQ(orc_rt_log_Category_getName(orc_rt_log_Category_Session), "Session");
  CHECK(orc_rt_log_Category_getName(orc_rt_log_Category_Count) == NULL);
  CHECK(orc_rt_log_Category_getName(-1) == NULL);
}

/* A refused handle in a function with no result is logged (General). */
static void misuse(void) {
  orc_rt_Session_setErrorReporter((orc_rt_SessionRef)(void *)0x1234, NULL, NULL);
}

static void test_callback(void) {
  Recorded R;
  orc_rt_SessionRef S;
  orc_rt_log_Level Old;

  Old = orc_rt_log_setThreshold(ORC_RT_LOG_LEVEL_WARNING);
  CHECK(Old >= ORC_RT_LOG_LEVEL_DEBUG && Old <= ORC_RT_LOG_LEVEL_OFF);
  CHECK(orc_rt_log_setThreshold(42) == -1); /* not a level: unchanged */
  CHECK(orc_rt_log_setThreshold(-1) == -1);

  reset(&R);
  orc_rt_log_setCallback(record, &R);
  misuse();
  CHECK(R.Count == 1);
  CHECK(R.Level == ORC_RT_LOG_LEVEL_ERROR);
  CHECK(R.Category == orc_rt_log_Category_General);
  CHECK(strstr(R.Text, "orc_rt_Session_setErrorReporter: ") == R.Text);
  CHECK(strstr(R.Text, "invalid or destroyed") != NULL);
  CHECK(strchr(R.Text, '\n') == NULL);

  /* A Session with no error reporter logs its errors (Session). */
  reset(&R);
  S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  REQUIRE_VOID(S != NULL);
  orc_rt_Session_reportError(S, orc_rt_StringError_create("frobnicator 7 failed"));
  CHECK(R.Count == 1);
  CHECK(R.Level == ORC_RT_LOG_LEVEL_ERROR);
  CHECK(R.Category == orc_rt_log_Category_Session);
  CHECK_STREQ(R.Text, "frobnicator 7 failed");
  orc_rt_Session_destroy(S);

  /* The threshold applies to the callback. */
  reset(&R);
  CHECK(orc_rt_log_setThreshold(ORC_RT_LOG_LEVEL_OFF) == ORC_RT_LOG_LEVEL_WARNING);
  misuse();
  CHECK(R.Count == 0);
  CHECK(orc_rt_log_setThreshold(ORC_RT_LOG_LEVEL_ERROR) == ORC_RT_LOG_LEVEL_OFF);
  misuse();
  CHECK(R.Count == 1);

  /* NULL restores stderr: the callback is not called any more. */
  reset(&R);
  orc_rt_log_setCallback(NULL, NULL);
  misuse(); /* prints "orc-rt: error: ..." on stderr */
  CHECK(R.Count == 0);
  orc_rt_log_setThreshold(Old);
}

int main(void) {
  test_names();
  test_callback();
  TEST_FINISH("log");
}
