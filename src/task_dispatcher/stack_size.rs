//! The stack size of the threads that run tasks.

/// The default stack of a thread that may run JIT'd code: what the
/// process's main thread would get (8 MiB when that is unlimited or out of
/// range).
const FALLBACK_STACK_SIZE: usize = 8 << 20;
/// Limits of a reasonable stack size.
const MIN_STACK_SIZE: usize = 64 << 10;
const MAX_STACK_SIZE: usize = 1 << 30;

/// Parses a size in bytes with an optional `K`, `M` or `G` suffix
/// (powers of 1024).
fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (digits, mult) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1 << 10),
        b'm' | b'M' => (&s[..s.len() - 1], 1 << 20),
        b'g' | b'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    digits.parse::<usize>().ok()?.checked_mul(mult)
}

/// The stack size of the threads that run tasks (and so JIT'd code, which
/// expects the stack of a process's main thread):
///
/// 1. `ORC_RT_STACK_SIZE` if set to a size between 64 KiB and 1 GiB
///    (bytes, or with a `K`/`M`/`G` suffix, e.g. `16M`);
/// 2. otherwise the soft `RLIMIT_STACK` (`ulimit -s`), if between 64 KiB
///    and 1 GiB;
/// 3. otherwise 8 MiB.
///
/// Every such thread has a guard page below its stack, so an overflow is a
/// SIGSEGV, as in a native program. Embedders choose another size with
/// [`ThreadPoolTaskDispatcher::with_stack_size`] or
/// [`GrowingThreadPoolTaskDispatcher::with_stack_size`].
///
/// [`ThreadPoolTaskDispatcher::with_stack_size`]: super::ThreadPoolTaskDispatcher::with_stack_size
/// [`GrowingThreadPoolTaskDispatcher::with_stack_size`]: super::GrowingThreadPoolTaskDispatcher::with_stack_size
pub fn default_stack_size() -> usize {
    let in_range = |n: usize| (MIN_STACK_SIZE..=MAX_STACK_SIZE).contains(&n).then_some(n);
    if let Some(n) = std::env::var("ORC_RT_STACK_SIZE")
        .ok()
        .and_then(|v| parse_size(&v))
        .and_then(in_range)
    {
        return n;
    }
    crate::sys::stack::soft_stack_limit()
        .and_then(|n| usize::try_from(n).ok())
        .and_then(in_range)
        .unwrap_or(FALLBACK_STACK_SIZE)
}
