/*
 * orc-rt-c/support/Error.h: upstream orc-rt's include path for the C error
 * API, so C code written against upstream's headers compiles against this
 * runtime unchanged.
 *
 * Everything is declared by orc-rt.h, which this header includes. These
 * have the same names, parameters and meaning as upstream's:
 *   orc_rt_ErrorSuccess                     the success value (NULL)
 *   orc_rt_Error_TypeId                     identifies the class of an error
 *   orc_rt_Error_getTypeId(Err)             class of Err, Err not consumed
 *   orc_rt_Error_consume(Err)               drop Err unread
 *   orc_rt_Error_cantFail(Err)              abort with the message if Err fails
 *   orc_rt_Error_toString(Err)              consume Err, return its message
 *   orc_rt_Error_freeErrorMessage(Msg)      free what toString returned
 *   orc_rt_StringError_getTypeId()          class of string errors
 *   orc_rt_StringError_create(Msg)          new error carrying a copy of Msg
 *
 * Beyond upstream: every function here also accepts NULL, a stale handle
 * or a forged one (see the handle rules at the top of orc-rt.h). In C++
 * upstream declares these noexcept; here they are plain extern "C"
 * declarations that never throw either (a Rust panic is caught inside).
 */
#ifndef ORC_RT_C_SUPPORT_ERROR_H
#define ORC_RT_C_SUPPORT_ERROR_H

#include "CoreTypes.h"

#endif /* ORC_RT_C_SUPPORT_ERROR_H */
