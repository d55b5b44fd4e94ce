/*
 * A minimal program using an installed orc-rt: builds a buffer and an
 * error through the C API and checks what comes back. Built by
 * ctests/consumer/CMakeLists.txt (find_package) and by check-install.sh
 * (pkg-config).
 */
#include <orc-rt.h>

#include <stdio.h>
#include <string.h>

int main(void) {
  const char Text[] = "installed orc-rt works";
  orc_rt_WrapperFunctionBuffer B =
      orc_rt_CreateWrapperFunctionBufferFromRange(Text, sizeof(Text));
  orc_rt_ErrorRef E = orc_rt_StringError_create("consumer error");
  char *Msg;
  int Ok = orc_rt_WrapperFunctionBufferSize(&B) == sizeof(Text) &&
           strcmp(orc_rt_WrapperFunctionBufferConstData(&B), Text) == 0 &&
           orc_rt_Error_getTypeId(E) == orc_rt_StringError_getTypeId();
  Msg = orc_rt_Error_toString(E);
  Ok = Ok && strcmp(Msg, "consumer error") == 0;
  printf("consumer (orc-rt %d.%d.%d): %s; %s\n", ORC_RT_VERSION_MAJOR,
         ORC_RT_VERSION_MINOR, ORC_RT_VERSION_PATCH,
         orc_rt_WrapperFunctionBufferConstData(&B), Msg);
  orc_rt_Error_freeErrorMessage(Msg);
  orc_rt_DisposeWrapperFunctionBuffer(&B);
  return Ok ? 0 : 1;
}
