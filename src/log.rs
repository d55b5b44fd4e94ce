//! Logging: every message orc-rt prints has a level and a category.
//!
//! The level is the `log` crate's [`Level`]; the [`Category`] names the
//! subsystem (the same categories as upstream orc-rt's logging, plus
//! `Platform`) and becomes the `log` target, `orc_rt::session` and so on.
//! A message goes to exactly one place, the first that applies:
//!
//! 1. the callback installed with [`set_callback`] (the C API's
//!    `orc_rt_log_setCallback` installs one), if the level passes the
//!    [`threshold`];
//! 2. the `log` facade, if the host installed a logger (that is,
//!    [`::log::max_level`] is not `Off`, which every logger sets): the
//!    host's logger does all the filtering (`RUST_LOG=orc_rt=debug` with
//!    env_logger, for example);
//! 3. otherwise stderr, one line per message, `orc-rt: <level>: <message>`
//!    (`orc-rt: error: ...`, `orc-rt: trace: E->C Setup ...`), if the level
//!    passes the threshold.
//!
//! The threshold starts from the environment, read once at the first
//! message: `ORC_RT_LOG=<off|error|warning|info|debug|trace>` (any case;
//! default `warning`), and `ORC_RT_TRACE=1` turns on the trace level for
//! [`Category::ControllerAccess`] (one line per protocol message).
//! [`set_threshold`] replaces the `ORC_RT_LOG` part.
//!
//! ```
//! use orc_rt::log::{set_callback, set_threshold, Category, Level, LevelFilter};
//! use std::sync::{Arc, Mutex};
//!
//! assert_eq!(Category::Session.target(), "orc_rt::session");
//!
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let sink = seen.clone();
//! set_callback(Some(Box::new(move |level, category, text: &str| {
//!     sink.lock().unwrap().push((level, category, text.to_string()));
//! })));
//! set_threshold(LevelFilter::Info);
//! orc_rt::log::emit(Level::Info, Category::General, format_args!("hello {}", 42));
//! orc_rt::log::emit(Level::Debug, Category::General, format_args!("below the threshold"));
//! set_callback(None); // back to the default; no call of the old one is still running
//!
//! let seen = seen.lock().unwrap();
//! assert_eq!(*seen, [(Level::Info, Category::General, "hello 42".to_string())]);
//! ```

use std::cell::Cell;
use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, LazyLock, RwLock};

pub use ::log::{Level, LevelFilter};

/// The subsystem a message comes from. Its [`target`](Category::target) is
/// the `log` target of its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// Anything without a more specific category: errors that belong to
    /// no Session, refused C handles, panics caught at the C boundary.
    General,
    /// The connection to the controller (the SimpleRemoteEPC transport),
    /// including the `ORC_RT_TRACE=1` protocol trace.
    ControllerAccess,
    /// A Session's errors, when the host set no error reporter.
    Session,
    /// The ELF platform runtime that JIT'd code calls (TLS, lazy
    /// call-through stubs, the runtime's own error messages).
    Platform,
}

impl Category {
    /// Every category, in the order of the C API's values.
    pub const ALL: [Category; 4] = [
        Category::General,
        Category::ControllerAccess,
        Category::Session,
        Category::Platform,
    ];

    /// The `log` target of this category's messages.
    pub fn target(self) -> &'static str {
        match self {
            Category::General => "orc_rt::general",
            Category::ControllerAccess => "orc_rt::controller_access",
            Category::Session => "orc_rt::session",
            Category::Platform => "orc_rt::platform",
        }
    }

    /// The display name (upstream orc-rt's spelling): `General`,
    /// `ControllerAccess`, `Session`, `Platform`.
    pub fn name(self) -> &'static str {
        match self {
            Category::General => "General",
            Category::ControllerAccess => "ControllerAccess",
            Category::Session => "Session",
            Category::Platform => "Platform",
        }
    }
}

/// What the environment asked for, read once.
struct EnvConfig {
    /// `ORC_RT_LOG`, or the default.
    level: LevelFilter,
    /// `ORC_RT_TRACE` is set, non-empty and not `0`.
    trace_transport: bool,
    /// An `ORC_RT_LOG` value that is not a level (reported once).
    bad_value: Option<String>,
}

/// The threshold when `ORC_RT_LOG` is not set.
const DEFAULT_THRESHOLD: LevelFilter = LevelFilter::Warn;

static ENV: LazyLock<EnvConfig> = LazyLock::new(|| {
    let (level, bad_value) = match std::env::var("ORC_RT_LOG") {
        Ok(v) if v.is_empty() => (DEFAULT_THRESHOLD, None),
        Ok(v) => match parse_level_filter(&v) {
            Some(l) => (l, None),
            None => (DEFAULT_THRESHOLD, Some(v)),
        },
        Err(std::env::VarError::NotPresent) => (DEFAULT_THRESHOLD, None),
        Err(std::env::VarError::NotUnicode(v)) => {
            (DEFAULT_THRESHOLD, Some(v.to_string_lossy().into_owned()))
        }
    };
    let trace_transport = std::env::var("ORC_RT_TRACE").is_ok_and(|v| !v.is_empty() && v != "0");
    EnvConfig {
        level,
        trace_transport,
        bad_value,
    }
});

/// [`set_threshold`]'s value as `LevelFilter as u8`, or [`NOT_SET`].
static THRESHOLD: AtomicU8 = AtomicU8::new(NOT_SET);
const NOT_SET: u8 = u8::MAX;

/// The bad `ORC_RT_LOG` value has been reported.
static BAD_VALUE_REPORTED: AtomicBool = AtomicBool::new(false);

/// A message callback (see [`set_callback`]).
pub type Callback = dyn Fn(Level, Category, &str) + Send + Sync;

/// The installed callback. `HAS_CALLBACK` mirrors `is_some()` so that the
/// common case (no callback) takes no lock.
static CALLBACK: RwLock<Option<Arc<Box<Callback>>>> = RwLock::new(None);
static HAS_CALLBACK: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// The callback this thread is running (its address), or 0.
    static DELIVERING: Cell<usize> = const { Cell::new(0) };
}

/// Parses a level name, in any case: `off`, `error`, `warning` (or
/// `warn`), `info`, `debug`, `trace`.
fn parse_level_filter(s: &str) -> Option<LevelFilter> {
    let s = s.trim().to_ascii_lowercase();
    Some(match s.as_str() {
        "off" => LevelFilter::Off,
        "error" => LevelFilter::Error,
        "warning" | "warn" => LevelFilter::Warn,
        "info" => LevelFilter::Info,
        "debug" => LevelFilter::Debug,
        "trace" => LevelFilter::Trace,
        _ => return None,
    })
}

/// The level's name in the default sink's lines: `error`, `warning`,
/// `info`, `debug`, `trace`.
fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warn => "warning",
        Level::Info => "info",
        Level::Debug => "debug",
        Level::Trace => "trace",
    }
}

fn filter_from_u8(v: u8) -> LevelFilter {
    LevelFilter::iter()
        .find(|f| *f as u8 == v)
        .unwrap_or(DEFAULT_THRESHOLD)
}

/// The threshold for the callback and the default sink: [`set_threshold`]'s
/// value, else `ORC_RT_LOG`'s, else `warning`. (`ORC_RT_TRACE=1` comes on
/// top of it for [`Category::ControllerAccess`].)
pub fn threshold() -> LevelFilter {
    match THRESHOLD.load(Ordering::Relaxed) {
        NOT_SET => ENV.level,
        v => filter_from_u8(v),
    }
}

/// Sets the threshold for the callback and the default sink (it replaces
/// `ORC_RT_LOG`) and returns the previous one. A host's `log` logger does
/// its own filtering and is not affected. Any thread.
pub fn set_threshold(filter: LevelFilter) -> LevelFilter {
    let old = THRESHOLD.swap(filter as u8, Ordering::Relaxed);
    match old {
        NOT_SET => ENV.level,
        v => filter_from_u8(v),
    }
}

fn threshold_for(category: Category) -> LevelFilter {
    let t = threshold();
    if category == Category::ControllerAccess && ENV.trace_transport {
        LevelFilter::Trace
    } else {
        t
    }
}

fn current_callback() -> Option<Arc<Box<Callback>>> {
    if !HAS_CALLBACK.load(Ordering::Acquire) {
        return None;
    }
    crate::sync::read(&CALLBACK).clone()
}

fn logger_installed() -> bool {
    ::log::max_level() != LevelFilter::Off
}

/// Whether a message of `level` in `category` would go anywhere. Use it to
/// skip work that only builds a message.
pub fn enabled(level: Level, category: Category) -> bool {
    if !HAS_CALLBACK.load(Ordering::Acquire) && logger_installed() {
        ::log::log_enabled!(target: category.target(), level)
    } else {
        level <= threshold_for(category)
    }
}

/// Installs `callback` for every message that passes the threshold, in
/// place of the `log` facade and stderr; `None` restores them. Most Rust
/// hosts install a `log` logger instead; this is what the C API's
/// `orc_rt_log_setCallback` uses.
///
/// The callback runs on the thread that logs, possibly on several threads
/// at once. A message it logs itself goes to stderr, not back to it. When
/// `set_callback` returns, no other thread is still running the previous
/// callback, so what it captured may be released (called from inside the
/// callback, it cannot wait for its own call, and does not). A callback
/// that blocks makes `set_callback` wait as long.
pub fn set_callback(callback: Option<Box<Callback>>) {
    let new = callback.map(Arc::new);
    let has = new.is_some();
    let old = {
        let mut slot = crate::sync::write(&CALLBACK);
        let old = std::mem::replace(&mut *slot, new);
        HAS_CALLBACK.store(has, Ordering::Release);
        old
    };
    if let Some(old) = old {
        // Calls of `old` in progress hold a clone; this thread's own call,
        // if it is inside `old`, holds one too and cannot end first.
        let own = DELIVERING.with(|d| d.get()) == Arc::as_ptr(&old) as usize;
        let expected = 1 + usize::from(own);
        while Arc::strong_count(&old) > expected {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

/// Logs a message: to the callback, the `log` facade or stderr (see the
/// module documentation). `args` is formatted only if the message goes
/// somewhere. Any thread; never fails and never panics.
pub fn emit(level: Level, category: Category, args: fmt::Arguments<'_>) {
    report_bad_env_value();
    if let Some(cb) = current_callback() {
        if level > threshold_for(category) {
            return;
        }
        let me = Arc::as_ptr(&cb) as usize;
        if DELIVERING.with(|d| d.get()) == 0 {
            DELIVERING.with(|d| d.set(me));
            let text = args.to_string();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                cb(level, category, &text)
            }));
            DELIVERING.with(|d| d.set(0));
            if r.is_err() {
                write_default_line(
                    Level::Error,
                    format_args!("the log callback panicked on: {text}"),
                );
            }
            return;
        }
        // Logged from inside the callback: stderr, not a recursive call.
        write_default_line(level, args);
        return;
    }
    if logger_installed() {
        ::log::log!(target: category.target(), level, "{args}");
        return;
    }
    if level <= threshold_for(category) {
        write_default_line(level, args);
    }
}

/// An `ORC_RT_LOG` that named no level is said once, as a warning.
fn report_bad_env_value() {
    if let Some(v) = &ENV.bad_value {
        if !BAD_VALUE_REPORTED.swap(true, Ordering::Relaxed) {
            emit(
                Level::Warn,
                Category::General,
                format_args!(
                    "ignoring ORC_RT_LOG={v:?}: not one of off, error, warning, info, debug, trace"
                ),
            );
        }
    }
}

/// Formats one line of the default sink: `orc-rt: <level>: <message>\n`.
fn format_default_line(level: Level, args: fmt::Arguments<'_>) -> String {
    format!("orc-rt: {}: {args}\n", level_name(level))
}

fn write_default_line(level: Level, args: fmt::Arguments<'_>) {
    // One write per line, so lines of concurrent threads do not mix.
    let line = format_default_line(level, args);
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_line_has_one_prefix_and_the_level() {
        assert_eq!(
            format_default_line(Level::Error, format_args!("a {} b", 1)),
            "orc-rt: error: a 1 b\n"
        );
        assert_eq!(
            format_default_line(Level::Warn, format_args!("w")),
            "orc-rt: warning: w\n"
        );
        assert_eq!(
            format_default_line(Level::Trace, format_args!("E->C Setup seq=0")),
            "orc-rt: trace: E->C Setup seq=0\n"
        );
    }

    #[test]
    fn level_names_parse_back() {
        for l in Level::iter() {
            assert_eq!(parse_level_filter(level_name(l)), Some(l.to_level_filter()));
        }
        assert_eq!(parse_level_filter(" DEBUG "), Some(LevelFilter::Debug));
        assert_eq!(parse_level_filter("Off"), Some(LevelFilter::Off));
        assert_eq!(parse_level_filter("warn"), Some(LevelFilter::Warn));
        assert_eq!(parse_level_filter("verbose"), None);
        assert_eq!(parse_level_filter(""), None);
    }

    #[test]
    fn filter_round_trips_through_u8() {
        for f in LevelFilter::iter() {
            assert_eq!(filter_from_u8(f as u8), f);
        }
    }

    #[test]
    fn targets_are_distinct_and_under_the_crate() {
        let mut seen = std::collections::HashSet::new();
        for c in Category::ALL {
            assert!(c.target().starts_with("orc_rt::"), "{c:?}");
            assert!(seen.insert(c.target()), "{c:?}");
        }
    }
}
