/* orc-rt's ELF platform archive: the names LLVM's ELFNixPlatform looks up
 * in the platform JITDylib, each forwarding to orc-rt's executor.
 *
 * The controller JIT-links this file into the platform JITDylib. Every
 * function here calls (or tail-calls) a __orc_rt_rs_* function, which the
 * controller resolves as a process symbol of the executor; only orc-rt's
 * executor defines those, so with another executor the link fails with
 * "Symbols not found" instead of running half a runtime.
 *
 * This file is the same for every architecture; the thread-local entry
 * point and the lazy re-entry stub are assembly, one file per architecture
 * (elfnix_tls.<arch>.S, elfnix_reenter.<arch>.S).
 *
 * Rules (see src/services/elfnix_platform/mod.rs and the README):
 *  - never define the names the controller aliases (atexit, __cxa_atexit,
 *    __orc_rt_run_program, __orc_rt_jit_dl*, __orc_rt_log_error,
 *    __orc_rt_reenter), nor __dso_handle or __orc_rt_jit_dispatch[_ctx];
 *  - no .init_array and no TLS of our own;
 *  - each dispatch tag is a distinct byte.
 */
#include <stddef.h>
#include <stdint.h>

/* LLVM's CWrapperFunctionResult: 16 bytes, returned in two registers
 * (%rax:%rdx on x86-64, x0:x1 on AArch64). */
typedef struct {
  union {
    char *ValuePtr;
    char Value[sizeof(char *)];
  } Data;
  size_t Size;
} orc_rt_elfnix_WrapperResult;

/* The platform JITDylib's handle, defined by the controller. */
extern char __dso_handle;

/* Tags: the controller finds them by name and answers calls made with their
 * addresses. */
char __orc_rt_elfnix_push_initializers_tag = 0;
char __orc_rt_elfnix_symbol_lookup_tag = 0;
/* The lazy re-entry stub's (elfnix_reenter.<arch>.S). */
char __orc_rt_resolve_tag = 0;

orc_rt_elfnix_WrapperResult
__orc_rt_rs_elfnix_platform_bootstrap(const char *, size_t, const void *,
                                      const void *);

orc_rt_elfnix_WrapperResult
__orc_rt_elfnix_platform_bootstrap(const char *ArgData, size_t ArgSize) {
  return __orc_rt_rs_elfnix_platform_bootstrap(
      ArgData, ArgSize, &__orc_rt_elfnix_push_initializers_tag,
      &__orc_rt_elfnix_symbol_lookup_tag);
}

/* Wrapper functions the controller calls: same signature on both sides. */
#define ORC_RT_FORWARD_WRAPPER(Name, Target)                                   \
  orc_rt_elfnix_WrapperResult Target(const char *, size_t);                    \
  orc_rt_elfnix_WrapperResult Name(const char *ArgData, size_t ArgSize) {      \
    return Target(ArgData, ArgSize);                                           \
  }

ORC_RT_FORWARD_WRAPPER(__orc_rt_elfnix_platform_shutdown,
                       __orc_rt_rs_elfnix_platform_shutdown)
ORC_RT_FORWARD_WRAPPER(__orc_rt_elfnix_register_jitdylib,
                       __orc_rt_rs_elfnix_register_jitdylib)
ORC_RT_FORWARD_WRAPPER(__orc_rt_elfnix_deregister_jitdylib,
                       __orc_rt_rs_elfnix_deregister_jitdylib)
ORC_RT_FORWARD_WRAPPER(__orc_rt_elfnix_register_object_sections,
                       __orc_rt_rs_elfnix_register_object_sections)
ORC_RT_FORWARD_WRAPPER(__orc_rt_elfnix_deregister_object_sections,
                       __orc_rt_rs_elfnix_deregister_object_sections)
ORC_RT_FORWARD_WRAPPER(__orc_rt_elfnix_register_init_sections,
                       __orc_rt_rs_elfnix_register_init_sections)
ORC_RT_FORWARD_WRAPPER(__orc_rt_elfnix_deregister_init_sections,
                       __orc_rt_rs_elfnix_deregister_init_sections)
ORC_RT_FORWARD_WRAPPER(__orc_rt_elfnix_register_fini_sections,
                       __orc_rt_rs_elfnix_register_fini_sections)
ORC_RT_FORWARD_WRAPPER(__orc_rt_elfnix_deregister_fini_sections,
                       __orc_rt_rs_elfnix_deregister_fini_sections)
ORC_RT_FORWARD_WRAPPER(__orc_rt_elfnix_create_pthread_key,
                       __orc_rt_rs_elfnix_create_pthread_key)
ORC_RT_FORWARD_WRAPPER(__orc_rt_run_program_wrapper,
                       __orc_rt_rs_run_program_wrapper)
ORC_RT_FORWARD_WRAPPER(__orc_rt_jit_dlopen_wrapper,
                       __orc_rt_rs_jit_dlopen_wrapper)
ORC_RT_FORWARD_WRAPPER(__orc_rt_jit_dlupdate_wrapper,
                       __orc_rt_rs_jit_dlupdate_wrapper)
ORC_RT_FORWARD_WRAPPER(__orc_rt_jit_dlclose_wrapper,
                       __orc_rt_rs_jit_dlclose_wrapper)

/* Targets of the controller's aliases, called by JIT'd code. */
int __orc_rt_rs_elfnix_cxa_atexit(void (*)(void *), void *, void *);
int __orc_rt_elfnix_cxa_atexit(void (*Fn)(void *), void *Arg,
                               void *DSOHandle) {
  return __orc_rt_rs_elfnix_cxa_atexit(Fn, Arg, DSOHandle);
}

/* atexit has no handle argument: it registers against the platform
 * JITDylib, whose __dso_handle this object sees. */
int __orc_rt_rs_elfnix_atexit(void (*)(void), void *);
int __orc_rt_elfnix_atexit(void (*Fn)(void)) {
  return __orc_rt_rs_elfnix_atexit(Fn, &__dso_handle);
}

int64_t __orc_rt_rs_elfnix_run_program(const char *, const char *, int,
                                       char **);
int64_t __orc_rt_elfnix_run_program(const char *JD, const char *Entry,
                                    int Argc, char **Argv) {
  return __orc_rt_rs_elfnix_run_program(JD, Entry, Argc, Argv);
}

void *__orc_rt_rs_elfnix_jit_dlopen(const char *, int);
void *__orc_rt_elfnix_jit_dlopen(const char *Path, int Mode) {
  return __orc_rt_rs_elfnix_jit_dlopen(Path, Mode);
}

int __orc_rt_rs_elfnix_jit_dlupdate(void *);
int __orc_rt_elfnix_jit_dlupdate(void *Handle) {
  return __orc_rt_rs_elfnix_jit_dlupdate(Handle);
}

int __orc_rt_rs_elfnix_jit_dlclose(void *);
int __orc_rt_elfnix_jit_dlclose(void *Handle) {
  return __orc_rt_rs_elfnix_jit_dlclose(Handle);
}

void *__orc_rt_rs_elfnix_jit_dlsym(void *, const char *);
void *__orc_rt_elfnix_jit_dlsym(void *Handle, const char *Name) {
  return __orc_rt_rs_elfnix_jit_dlsym(Handle, Name);
}

const char *__orc_rt_rs_elfnix_jit_dlerror(void);
const char *__orc_rt_elfnix_jit_dlerror(void) {
  return __orc_rt_rs_elfnix_jit_dlerror();
}

void __orc_rt_rs_log_error_to_stderr(const char *);
void __orc_rt_log_error_to_stderr(const char *Msg) {
  __orc_rt_rs_log_error_to_stderr(Msg);
}
