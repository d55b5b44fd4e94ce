/*
 * orc-rt-c/support/CoreTypes.h: upstream orc-rt's include path for the
 * core handle types, so C code written against upstream's headers compiles
 * against this runtime unchanged.
 *
 * Everything is declared by orc-rt.h, which this header includes. The
 * declarations upstream keeps under this path have the same names and
 * types here:
 *   orc_rt_ErrorRef              opaque error handle, NULL meaning success
 *   orc_rt_SessionRef            opaque Session handle
 *   orc_rt_ControllerHandlerTag  a controller-side handler the executor calls
 *
 * orc-rt.h declares the rest of this runtime's C API as well; code that
 * sticks to upstream's names can ignore it.
 */
#ifndef ORC_RT_C_SUPPORT_CORETYPES_H
#define ORC_RT_C_SUPPORT_CORETYPES_H

#include "../../orc-rt.h"

#endif /* ORC_RT_C_SUPPORT_CORETYPES_H */
