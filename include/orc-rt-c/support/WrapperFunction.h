/*
 * orc-rt-c/support/WrapperFunction.h: upstream orc-rt's include path for
 * wrapper-function buffers and the native wrapper-function types, so C code
 * written against upstream's headers finds them here.
 *
 * Everything is declared by orc-rt.h, which this header includes.
 *
 * The same as upstream (names, parameters, meaning):
 *   orc_rt_WrapperFunctionBufferDataUnion, orc_rt_WrapperFunctionBuffer
 *     (the same layout: a union of a char pointer and sizeof(char *) inline
 *     bytes, then a size_t; out-of-band error when Size is 0 and the
 *     pointer is set)
 *   orc_rt_WrapperFunctionBufferInit, orc_rt_WrapperFunctionBufferAllocate,
 *   orc_rt_CreateWrapperFunctionBufferFromRange,
 *   orc_rt_CreateWrapperFunctionBufferFromString,
 *   orc_rt_CreateWrapperFunctionBufferFromOutOfBandError,
 *   orc_rt_WrapperFunctionBufferDispose, orc_rt_WrapperFunctionBufferData,
 *   orc_rt_WrapperFunctionBufferConstData, orc_rt_WrapperFunctionBufferSize,
 *   orc_rt_WrapperFunctionBufferEmpty,
 *   orc_rt_WrapperFunctionBufferGetOutOfBandError
 * Upstream defines these helpers inline in its header; here they are
 * functions exported by liborc_rt, so a program must link it (it must in
 * any case to use a Session). Where upstream asserts (the data or size of
 * an out-of-band error) or would crash (a NULL buffer pointer), these
 * return NULL or 0 instead.
 * Heap contents are malloc'ed and free'd on both sides, so buffers made by
 * upstream-style inline code and by this library mix freely.
 *
 * NOT the same as upstream: the argument order of the native wrapper
 * function and of its return function. This runtime keeps its original
 * order, with the call id before the other arguments:
 *   orc_rt_WrapperFunction:        (S, CallId, Return, ArgBytes)
 *   orc_rt_WrapperFunctionReturn:  (S, CallId, ResultBytes)
 * while upstream has since moved the call id to the end:
 *   (S, ArgBytes, Return, CallId) and (S, ResultBytes, CallId).
 * A wrapper function written for upstream's order must swap its
 * parameters to be used here; passing one unchanged draws the compiler's
 * incompatible-pointer-types diagnostic (an error with -Werror, and by
 * default in recent compilers).
 *
 * Also here, since they are in orc-rt.h: <stddef.h> and <stdint.h>.
 * Upstream's header also brings <stdlib.h> and <string.h>, which code
 * written against it may rely on, so this one includes them as well.
 */
#ifndef ORC_RT_C_SUPPORT_WRAPPERFUNCTION_H
#define ORC_RT_C_SUPPORT_WRAPPERFUNCTION_H

#include "CoreTypes.h"

#include <stdlib.h>
#include <string.h>

#endif /* ORC_RT_C_SUPPORT_WRAPPERFUNCTION_H */
