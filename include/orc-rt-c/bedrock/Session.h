/*
 * orc-rt-c/bedrock/Session.h: upstream orc-rt's include path for the C
 * Session API, so C code written against upstream's headers compiles
 * against this runtime unchanged.
 *
 * Everything is declared by orc-rt.h, which this header includes. These
 * have the same names, parameters and meaning as upstream's:
 *   orc_rt_Session_CallControllerReturn   (S, ResultBytes, Ctx): receives
 *                                         a controller call's result
 *   orc_rt_Session_callController(S, T, ArgBytes, Return, ReturnCtx)
 *                                         calls the controller handler T
 *
 * Upstream's C API has no way to create a Session (a C++ host makes it);
 * here orc-rt.h has orc_rt_Session_create and the rest of the lifecycle.
 */
#ifndef ORC_RT_C_BEDROCK_SESSION_H
#define ORC_RT_C_BEDROCK_SESSION_H

#include "../support/CoreTypes.h"
#include "../support/WrapperFunction.h"

#endif /* ORC_RT_C_BEDROCK_SESSION_H */
