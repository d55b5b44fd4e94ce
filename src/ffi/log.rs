//! C API for logging: levels, categories and a message callback.
//!
//! The names are upstream orc-rt's (`orc-rt-c/support/Logging.h`):
//! `orc_rt_log_Level` (an int, `ORC_RT_LOG_LEVEL_*`), `orc_rt_log_Category`
//! (`orc_rt_log_Category_*`) and `orc_rt_log_Level_getName`,
//! `orc_rt_log_Level_parse`, `orc_rt_log_Category_getName`. Ours on top:
//! `orc_rt_log_setCallback` and `orc_rt_log_setThreshold`. Everything else
//! is [`crate::log`]; this file only converts.
//!
//! ```
//! use orc_rt::ffi::log::*;
//! use std::ffi::CStr;
//!
//! let name = orc_rt_log_Level_getName(orc_rt_log_LevelValue::ORC_RT_LOG_LEVEL_WARNING as i32);
//! // SAFETY: a static string of the library.
//! assert_eq!(unsafe { CStr::from_ptr(name) }, c"WARNING");
//! // SAFETY: a NUL-terminated string.
//! assert_eq!(unsafe { orc_rt_log_Level_parse(c"debug".as_ptr()) }, 0);
//! assert!(orc_rt_log_Category_getName(99).is_null());
//! ```

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};

use super::handle::CtxPtr;
use super::panic::ffi_boundary;
use crate::log::{Category, Level, LevelFilter};

/// A log level: one of the `ORC_RT_LOG_LEVEL_*` values (an int, as in
/// upstream orc-rt). Higher is more severe; a threshold of
/// `ORC_RT_LOG_LEVEL_OFF` lets nothing through.
#[allow(non_camel_case_types)]
pub type orc_rt_log_Level = c_int;

/// The values of `orc_rt_log_Level` (upstream orc-rt's names and numbers).
/// orc-rt's protocol trace (`ORC_RT_TRACE=1`) is finer than DEBUG and
/// reaches a log callback as DEBUG.
#[repr(C)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum orc_rt_log_LevelValue {
    /// Details for people debugging orc-rt or a controller.
    ORC_RT_LOG_LEVEL_DEBUG = 0,
    /// Notable events.
    ORC_RT_LOG_LEVEL_INFO = 1,
    /// Something looks wrong, and orc-rt carries on.
    ORC_RT_LOG_LEVEL_WARNING = 2,
    /// Something failed that no caller could be told about.
    ORC_RT_LOG_LEVEL_ERROR = 3,
    /// As a threshold: no messages at all. No message has this level.
    ORC_RT_LOG_LEVEL_OFF = 4,
    /// The number of levels (not a level).
    ORC_RT_LOG_LEVEL_COUNT = 5,
}

/// The subsystem a message comes from: one of the `orc_rt_log_Category_*`
/// values (an int, so that a value from a newer library is no surprise).
#[allow(non_camel_case_types)]
pub type orc_rt_log_Category = c_int;

/// The values of `orc_rt_log_Category`; the first three are upstream
/// orc-rt's. Rust hosts see them as `log` targets (`orc_rt::general`,
/// `orc_rt::controller_access`, `orc_rt::session`, `orc_rt::platform`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum orc_rt_log_CategoryValue {
    /// Errors of no Session: refused handles, panics caught at the C
    /// boundary.
    orc_rt_log_Category_General = 0,
    /// The connection to the controller, including the protocol trace.
    orc_rt_log_Category_ControllerAccess = 1,
    /// A Session's errors when no error reporter is set.
    orc_rt_log_Category_Session = 2,
    /// The ELF platform runtime that JIT'd code calls.
    orc_rt_log_Category_Platform = 3,
    /// The number of categories (not a category).
    orc_rt_log_Category_Count = 4,
}

/// Receives one log message: `Ctx` as given to `orc_rt_log_setCallback`,
/// the message's level and category, and its text (NUL-terminated, valid
/// only during the call; may contain newlines, has no trailing one).
#[allow(non_camel_case_types)]
pub type orc_rt_log_Callback = Option<
    unsafe extern "C" fn(
        Ctx: *mut c_void,
        Level: orc_rt_log_Level,
        Category: orc_rt_log_Category,
        Message: *const c_char,
    ),
>;

const LEVEL_NAMES: [&CStr; 5] = [c"DEBUG", c"INFO", c"WARNING", c"ERROR", c"OFF"];

fn level_to_c(level: Level) -> orc_rt_log_Level {
    filter_to_c(level.to_level_filter())
}

fn filter_to_c(f: LevelFilter) -> orc_rt_log_Level {
    use orc_rt_log_LevelValue::*;
    (match f {
        LevelFilter::Off => ORC_RT_LOG_LEVEL_OFF,
        LevelFilter::Error => ORC_RT_LOG_LEVEL_ERROR,
        LevelFilter::Warn => ORC_RT_LOG_LEVEL_WARNING,
        LevelFilter::Info => ORC_RT_LOG_LEVEL_INFO,
        LevelFilter::Debug | LevelFilter::Trace => ORC_RT_LOG_LEVEL_DEBUG,
    }) as orc_rt_log_Level
}

fn filter_from_c(l: orc_rt_log_Level) -> Option<LevelFilter> {
    Some(match l {
        0 => LevelFilter::Debug,
        1 => LevelFilter::Info,
        2 => LevelFilter::Warn,
        3 => LevelFilter::Error,
        4 => LevelFilter::Off,
        _ => return None,
    })
}

fn category_to_c(c: Category) -> orc_rt_log_Category {
    Category::ALL.iter().position(|x| *x == c).unwrap_or(0) as orc_rt_log_Category
}

/// Returns the display name of level `L` ("DEBUG", "INFO", "WARNING",
/// "ERROR", "OFF"), a static string never freed, or NULL if `L` is not a
/// level. Any thread.
#[no_mangle]
pub extern "C" fn orc_rt_log_Level_getName(L: orc_rt_log_Level) -> *const c_char {
    ffi_boundary!("orc_rt_log_Level_getName", {
        usize::try_from(L)
            .ok()
            .and_then(|i| LEVEL_NAMES.get(i))
            .map_or(std::ptr::null(), |n| n.as_ptr())
    })
}

/// Returns the level named `Str` ("debug", "info", "warning", "error",
/// "off", in any case), or -1 if it names none (or `Str` is NULL). Any
/// thread.
///
/// # Safety
/// `Str` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_log_Level_parse(Str: *const c_char) -> orc_rt_log_Level {
    ffi_boundary!("orc_rt_log_Level_parse", {
        if Str.is_null() {
            return -1;
        }
        // SAFETY: caller promise: a NUL-terminated string.
        let s = unsafe { CStr::from_ptr(Str) };
        LEVEL_NAMES
            .iter()
            .position(|n| n.to_bytes().eq_ignore_ascii_case(s.to_bytes()))
            .map_or(-1, |i| i as orc_rt_log_Level)
    })
}

/// Returns the display name of category `Cat` ("General",
/// "ControllerAccess", "Session", "Platform"), a static string never
/// freed, or NULL if `Cat` is not a category. Any thread.
#[no_mangle]
pub extern "C" fn orc_rt_log_Category_getName(Cat: orc_rt_log_Category) -> *const c_char {
    ffi_boundary!("orc_rt_log_Category_getName", {
        const NAMES: [&CStr; 4] = [c"General", c"ControllerAccess", c"Session", c"Platform"];
        usize::try_from(Cat)
            .ok()
            .and_then(|i| NAMES.get(i))
            .map_or(std::ptr::null(), |n| n.as_ptr())
    })
}

/// Sends every orc-rt message whose level passes the threshold (see
/// `orc_rt_log_setThreshold`) to `Callback(Ctx, Level, Category, Message)`
/// instead of stderr; NULL `Callback` restores stderr (lines
/// `orc-rt: <level>: <message>`).
///
/// The callback runs on the thread that logs, possibly on several threads
/// at once, so `Callback` and `Ctx` must allow that; it must not unwind
/// (throw) into orc-rt. A message it causes itself goes to stderr. When
/// `orc_rt_log_setCallback` returns, no other thread is still inside the
/// previous callback, so its `Ctx` may be freed; it waits for calls in
/// progress (called from inside the callback, it does not wait for its
/// own call). Any thread; never fails.
#[no_mangle]
pub extern "C" fn orc_rt_log_setCallback(Callback: orc_rt_log_Callback, Ctx: *mut c_void) {
    ffi_boundary!("orc_rt_log_setCallback", {
        let Some(f) = Callback else {
            crate::log::set_callback(None);
            return;
        };
        let ctx = CtxPtr(Ctx);
        crate::log::set_callback(Some(Box::new(
            move |level: Level, category: Category, text: &str| {
                let ctx = &ctx;
                let msg = CString::new(text.replace('\0', " ")).unwrap_or_default();
                // SAFETY: registrant promise on Callback and Ctx (any thread);
                // msg outlives the call.
                unsafe {
                    f(
                        ctx.0,
                        level_to_c(level),
                        category_to_c(category),
                        msg.as_ptr(),
                    )
                }
            },
        )));
    })
}

/// Sets the level below which messages are dropped before they reach the
/// log callback or stderr (it replaces the `ORC_RT_LOG` environment
/// variable, which sets it at the first message; default WARNING) and
/// returns the previous threshold. A level that is not one leaves the
/// threshold as it was and returns -1 (a trace threshold, from
/// `ORC_RT_LOG=trace`, is returned as DEBUG). `ORC_RT_TRACE=1` still adds
/// the protocol trace (as DEBUG, category ControllerAccess). Any thread.
#[no_mangle]
pub extern "C" fn orc_rt_log_setThreshold(Level: orc_rt_log_Level) -> orc_rt_log_Level {
    ffi_boundary!("orc_rt_log_setThreshold", {
        match filter_from_c(Level) {
            Some(f) => filter_to_c(crate::log::set_threshold(f)),
            None => -1,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_categories_round_trip() {
        for l in 0..orc_rt_log_LevelValue::ORC_RT_LOG_LEVEL_COUNT as c_int {
            assert_eq!(filter_to_c(filter_from_c(l).unwrap()), l);
            let name = orc_rt_log_Level_getName(l);
            // SAFETY: a static name, parsed back.
            assert_eq!(unsafe { orc_rt_log_Level_parse(name) }, l);
        }
        for bad in [-1, 5, 100, c_int::MIN] {
            assert!(orc_rt_log_Level_getName(bad).is_null());
            assert!(filter_from_c(bad).is_none());
        }
        for c in Category::ALL {
            assert_eq!(Category::ALL[category_to_c(c) as usize], c);
            let n = orc_rt_log_Category_getName(category_to_c(c));
            // SAFETY: a static name.
            assert_eq!(unsafe { CStr::from_ptr(n) }.to_str().unwrap(), c.name());
        }
        let count = orc_rt_log_CategoryValue::orc_rt_log_Category_Count as c_int;
        assert_eq!(count as usize, Category::ALL.len());
        assert!(orc_rt_log_Category_getName(count).is_null());
        assert!(orc_rt_log_Category_getName(-1).is_null());
        assert_eq!(level_to_c(Level::Trace), 0);
        // SAFETY: NULL is allowed.
        assert_eq!(unsafe { orc_rt_log_Level_parse(std::ptr::null()) }, -1);
        // SAFETY: a NUL-terminated string.
        assert_eq!(unsafe { orc_rt_log_Level_parse(c"Warning".as_ptr()) }, 2);
        // SAFETY: a NUL-terminated string.
        assert_eq!(unsafe { orc_rt_log_Level_parse(c"trace".as_ptr()) }, -1);
    }
}
