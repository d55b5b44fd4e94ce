//! [`SimpleRemoteEpcControllerAccess`]: the executor side of a
//! SimpleRemoteEPC connection.
//!
//! One reader thread reads whole frames and hands CallWrappers to the
//! Session; writes are serialized by a mutex, one frame per write. The
//! executor's own calls to the controller (JIT dispatch) are numbered from 0
//! and completed when the matching Result arrives, or with the out-of-band
//! error `disconnecting` when the connection ends first.

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, ErrorKind};
use std::os::raw::{c_char, c_void};
use std::sync::{mpsc, Arc, Condvar, Mutex, Weak};

use std::sync::LazyLock;

use super::frame::{
    read_frame_buffer_for, BufferFrame, FrameError, FrameHeader, Opcode, PrewriteTags,
};
use super::transport::{Transport, TransportReader, TransportWriter, Waker};
use crate::controller_access::{ControllerAccess, HandlerTag, OnCallControllerCompleteFn};
use crate::session::Session;
use crate::sps::orc_types::SimpleRemoteEpcExecutorInfo;
use crate::sps_ci::bootstrap::{BootstrapSymbol, LeafTest};
use crate::sync::{lock, wait};
use crate::wrapper_function::orc_rt_WrapperFunctionBuffer;
use crate::wrapper_function::sync_abi::{arg_bytes, catch_to_buffer};
use crate::wrapper_function::IncomingCall;
use crate::{ExecutorAddr, WrapperFunctionBuffer};

/// Bootstrap symbol naming the dispatch context (first argument of the
/// dispatch function).
pub const DISPATCH_CTX_SYMBOL: &str = "__llvm_orc_SimpleRemoteEPC_dispatch_ctx";
/// Bootstrap symbol naming the dispatch function JIT'd code calls.
pub const DISPATCH_FN_SYMBOL: &str = "__llvm_orc_SimpleRemoteEPC_dispatch_fn";

/// The triple announced in Setup: LLVM's process triple for this build
/// target (LLVM spells the x86_64 Linux vendor `pc`).
pub const PROCESS_TRIPLE: &str = if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
    "x86_64-pc-linux-gnu"
} else if cfg!(all(target_arch = "aarch64", target_os = "linux")) {
    "aarch64-unknown-linux-gnu"
} else if cfg!(all(target_arch = "x86_64", target_os = "macos")) {
    "x86_64-apple-darwin"
} else if cfg!(all(target_arch = "aarch64", target_os = "macos")) {
    "arm64-apple-darwin"
} else {
    "unknown-unknown-unknown"
};

/// Out-of-band error given to calls that cannot complete because the
/// connection ended.
const DISCONNECTING: &str = "disconnecting";
/// Out-of-band error of a dispatch call made after the connection ended.
const DISPATCH_UNAVAILABLE: &str = "jit_dispatch not available (EPC server shut down)";

/// Errors of the SimpleRemoteEPC controller access. Messages match LLVM
/// 22's executor where it has one.
#[derive(Debug, thiserror::Error)]
pub enum SimpleRemoteEpcError {
    /// A frame could not be read.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The opcode is not one LLVM 22 defines.
    #[error("Unexpected opcode")]
    UnexpectedOpcode(u64),
    /// The controller sent Setup (only executors do).
    #[error("Unexpected Setup opcode")]
    UnexpectedSetup,
    /// A Result answers no pending executor call (or has a non-zero tag).
    #[error("No call for sequence number {0}")]
    NoCallForSeqNo(u64),
    /// A frame could not be written.
    #[error("write failed: {0}")]
    Write(#[source] std::io::Error),
    /// Two bootstrap symbols share a name.
    #[error("duplicate bootstrap symbol {0:?}")]
    DuplicateSymbol(String),
    /// The transport's reader was already taken (connected twice).
    #[error("the transport reader is gone")]
    ReaderGone,
    /// The reader thread could not be started.
    #[error("could not start the reader thread: {0}")]
    ReaderThread(#[source] std::io::Error),
    /// `connect` was called on a connection that already served a Session.
    #[error("attach: this SimpleRemoteEPC connection already serves a Session")]
    AlreadyConnected,
}

crate::module_error!(SimpleRemoteEpcError, Protocol);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Created, `connect` not called yet.
    Idle,
    /// Setup sent, reader running.
    Connected,
    /// `disconnect` asked the reader to stop.
    Disconnecting,
    /// The connection has ended; `notify_disconnected` has been (or is
    /// being) called.
    Disconnected,
}

struct State {
    phase: Phase,
    next_seqno: u64,
    pending: HashMap<u64, OnCallControllerCompleteFn>,
    session: Weak<Session>,
    /// Why the connection ended, if not cleanly (text, kept for
    /// `disconnect_error`).
    error: Option<String>,
    /// The same error, typed, until it is reported to the Session.
    unreported: Option<SimpleRemoteEpcError>,
}

impl State {
    /// Records the first error that ends the connection.
    fn record(&mut self, e: SimpleRemoteEpcError) {
        if self.error.is_none() {
            self.error = Some(e.to_string());
            self.unreported = Some(e);
        }
    }
}

/// Bytes the reader thread reads ahead from the controller.
const READ_BUFFER: usize = 64 * 1024;

struct Inner {
    state: Mutex<State>,
    finished: Condvar,
    writer: Mutex<TransportWriter>,
    reader: Mutex<Option<TransportReader>>,
    waker: Waker,
    bootstrap_symbols: Vec<BootstrapSymbol>,
    /// Addresses of the leaf calls among the bootstrap symbols: these run
    /// on the reader thread.
    leaves: HashSet<u64>,
    /// The calls that are leaf calls when their arguments pass a test.
    leaf_tests: HashMap<u64, LeafTest>,
    /// The entry points whose large calls the reader writes straight to
    /// their destination.
    prewrite_tags: PrewriteTags,
}

/// Live dispatch contexts: the address handed out as
/// `__llvm_orc_SimpleRemoteEPC_dispatch_ctx`, mapped to its connection.
/// Dispatch calls look their context up here instead of dereferencing it.
static DISPATCH_CONTEXTS: LazyLock<Mutex<HashMap<u64, Weak<Inner>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Whether the protocol trace is on: the trace level of the
/// `ControllerAccess` log category (`ORC_RT_TRACE=1`, or a host's logger).
fn tracing() -> bool {
    crate::log::enabled(
        crate::log::Level::Trace,
        crate::log::Category::ControllerAccess,
    )
}

/// Logs one line of the protocol trace (the trace is for people debugging
/// a controller; errors go to the Session's error reporter).
fn trace_line(line: std::fmt::Arguments<'_>) {
    crate::log::emit(
        crate::log::Level::Trace,
        crate::log::Category::ControllerAccess,
        line,
    );
}

/// A SimpleRemoteEPC connection to an LLVM 22 controller.
///
/// Create it with [`SimpleRemoteEpcControllerAccess::new`] and hand it to
/// [`Session::attach`]; the Session calls `connect`, which sends Setup and
/// starts the reader thread.
pub struct SimpleRemoteEpcControllerAccess {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SimpleRemoteEpcControllerAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimpleRemoteEpcControllerAccess")
            .finish_non_exhaustive()
    }
}

impl SimpleRemoteEpcControllerAccess {
    /// A controller access over `transport` announcing `bootstrap_symbols`
    /// (the two dispatch symbols are added). Fails if a name repeats.
    ///
    /// Every frame is logged at the trace level of the `ControllerAccess`
    /// category ([`crate::log`]): `ORC_RT_TRACE=1` prints them on stderr.
    pub fn new(
        transport: Transport,
        bootstrap_symbols: Vec<BootstrapSymbol>,
    ) -> Result<Arc<Self>, SimpleRemoteEpcError> {
        let mut seen = HashSet::new();
        for sym in &bootstrap_symbols {
            let name = &sym.name;
            if !seen.insert(name.as_str())
                || name == DISPATCH_CTX_SYMBOL
                || name == DISPATCH_FN_SYMBOL
            {
                return Err(SimpleRemoteEpcError::DuplicateSymbol(name.clone()));
            }
        }
        let leaves = bootstrap_symbols
            .iter()
            .filter(|s| s.leaf)
            .map(|s| s.addr.0)
            .collect();
        let leaf_tests = bootstrap_symbols
            .iter()
            .filter_map(|s| Some((s.addr.0, s.leaf_when.clone()?)))
            .collect();
        let tag_of = |name: &str| {
            bootstrap_symbols
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.addr.0)
        };
        let prewrite_tags = PrewriteTags {
            initialize: tag_of(crate::sps_ci::memory::INITIALIZE_NAME),
            write_buffers: tag_of(crate::sps_ci::access::WRITE_BUFFERS_NAME),
        };
        let (reader, writer, waker) = transport.split();
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                phase: Phase::Idle,
                next_seqno: 0,
                pending: HashMap::new(),
                session: Weak::new(),
                error: None,
                unreported: None,
            }),
            finished: Condvar::new(),
            writer: Mutex::new(writer),
            reader: Mutex::new(Some(reader)),
            waker,
            bootstrap_symbols,
            leaves,
            leaf_tests,
            prewrite_tags,
        });
        lock(&DISPATCH_CONTEXTS).insert(inner.ctx_addr(), Arc::downgrade(&inner));
        Ok(Arc::new(SimpleRemoteEpcControllerAccess { inner }))
    }

    /// The value of `__llvm_orc_SimpleRemoteEPC_dispatch_ctx`.
    pub fn dispatch_context(&self) -> ExecutorAddr {
        ExecutorAddr(self.inner.ctx_addr())
    }

    /// The Setup payload this connection sends (without encoding).
    pub fn executor_info(&self) -> SimpleRemoteEpcExecutorInfo {
        let mut syms: Vec<(String, ExecutorAddr)> = self
            .inner
            .bootstrap_symbols
            .iter()
            .map(|s| (s.name.clone(), s.addr))
            .collect();
        syms.push((DISPATCH_CTX_SYMBOL.to_string(), self.dispatch_context()));
        syms.push((DISPATCH_FN_SYMBOL.to_string(), dispatch_fn_address()));
        SimpleRemoteEpcExecutorInfo {
            triple: PROCESS_TRIPLE.to_string(),
            page_size: crate::sys::mmap::page_size(),
            bootstrap_map: Vec::new(),
            bootstrap_symbols: syms,
        }
    }

    /// The error that ended the connection, if it did not end cleanly (EOF
    /// at a frame boundary, Hangup, or a local `disconnect`). It is also
    /// reported through the Session's error reporter, once, before the
    /// Session is notified of the disconnection.
    pub fn disconnect_error(&self) -> Option<String> {
        lock(&self.inner.state).error.clone()
    }

    /// True once the connection has ended.
    pub fn is_disconnected(&self) -> bool {
        lock(&self.inner.state).phase == Phase::Disconnected
    }

    /// Blocks until the connection has ended and `notify_disconnected` has
    /// returned.
    pub fn wait_disconnected(&self) {
        let mut st = lock(&self.inner.state);
        while st.phase != Phase::Disconnected {
            st = wait(&self.inner.finished, st);
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let addr = self.ctx_addr();
        let mut map = lock(&DISPATCH_CONTEXTS);
        // Only remove our own entry (a new Inner may reuse the address after
        // we are gone, but not before this drop finishes).
        if map.get(&addr).is_some_and(|w| w.strong_count() == 0) {
            map.remove(&addr);
        }
    }
}

impl Inner {
    fn ctx_addr(&self) -> u64 {
        self as *const Inner as usize as u64
    }

    fn trace_frame(&self, dir: &str, opcode: &str, seqno: u64, tag: u64, size: usize) {
        if tracing() {
            trace_line(format_args!(
                "{dir} {opcode} seq={seqno} tag={tag:#x} size={size}"
            ));
        }
    }

    /// Writes one frame. The writer lock is held for the write only.
    fn send(&self, opcode: Opcode, seqno: u64, tag: u64, payload: &[u8]) -> std::io::Result<()> {
        let header = FrameHeader::new(opcode, seqno, tag, payload.len());
        self.trace_frame("E->C", opcode.name(), seqno, tag, payload.len() + 32);
        lock(&self.writer).write_frame(&header.encode(), payload)
    }

    /// A write failed: unless the connection is already ending (a race with
    /// the peer closing), that ends it. A peer that has closed its end
    /// (`EPIPE`, `ECONNRESET`) ends the session cleanly, like EOF at a frame
    /// boundary: which of the two the executor notices first is a race and
    /// must not decide the exit status. Any other write error is an error.
    fn on_write_error(&self, e: std::io::Error) {
        let peer_closed = matches!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
        );
        let mut st = lock(&self.state);
        if st.phase == Phase::Connected {
            if peer_closed {
                if tracing() {
                    trace_line(format_args!("controller closed the connection: {e}"));
                }
            } else {
                st.record(SimpleRemoteEpcError::Write(e));
            }
            st.phase = Phase::Disconnecting;
            drop(st);
            self.waker.wake();
        } else if tracing() {
            trace_line(format_args!("write after disconnect failed: {e}"));
        }
    }

    fn call_controller(
        &self,
        tag: HandlerTag,
        args: WrapperFunctionBuffer,
        on_complete: OnCallControllerCompleteFn,
    ) {
        let mut st = lock(&self.state);
        if st.phase != Phase::Connected {
            drop(st);
            on_complete(WrapperFunctionBuffer::out_of_band_error(DISCONNECTING));
            return;
        }
        let mut seqno = st.next_seqno;
        while st.pending.contains_key(&seqno) {
            seqno = seqno.wrapping_add(1);
        }
        st.next_seqno = seqno.wrapping_add(1);
        st.pending.insert(seqno, on_complete);
        drop(st);
        let Some(bytes) = args.as_slice() else {
            let msg = args
                .out_of_band_error_message()
                .map(|m| m.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Some(f) = lock(&self.state).pending.remove(&seqno) {
                f(WrapperFunctionBuffer::out_of_band_error(&msg));
            }
            return;
        };
        if let Err(e) = self.send(Opcode::CallWrapper, seqno, tag.0, bytes) {
            let f = lock(&self.state).pending.remove(&seqno);
            self.on_write_error(e);
            if let Some(f) = f {
                f(WrapperFunctionBuffer::out_of_band_error(DISCONNECTING));
            }
        }
    }

    /// Handles one frame; `Ok(false)` ends the session cleanly.
    fn handle_frame(
        &self,
        ca: &Arc<SimpleRemoteEpcControllerAccess>,
        session: &Weak<Session>,
        frame: BufferFrame,
    ) -> Result<bool, SimpleRemoteEpcError> {
        let h = frame.header;
        let Some(opcode) = Opcode::from_u64(h.opcode) else {
            let name = format!("opcode{}", h.opcode);
            self.trace_frame("C->E", &name, h.seqno, h.tag, frame.payload.len() + 32);
            return Err(SimpleRemoteEpcError::UnexpectedOpcode(h.opcode));
        };
        self.trace_frame(
            "C->E",
            opcode.name(),
            h.seqno,
            h.tag,
            frame.payload.len() + 32,
        );
        match opcode {
            Opcode::Setup => Err(SimpleRemoteEpcError::UnexpectedSetup),
            Opcode::Hangup => {
                // LLVM 22 ends the session on any Hangup, whatever it says.
                if tracing() && frame.payload.as_slice().and_then(|p| p.first()) == Some(&1) {
                    trace_line(format_args!("controller hung up with an error payload"));
                }
                Ok(false)
            }
            Opcode::Result => {
                let f = if h.tag == 0 {
                    lock(&self.state).pending.remove(&h.seqno)
                } else {
                    None
                };
                match f {
                    Some(f) => {
                        f(frame.payload);
                        Ok(true)
                    }
                    None => Err(SimpleRemoteEpcError::NoCallForSeqNo(h.seqno)),
                }
            }
            Opcode::CallWrapper => {
                let Some(session) = session.upgrade() else {
                    return Ok(false);
                };
                // SAFETY: the controller calls executor functions by address
                // with LLVM 22's synchronous wrapper ABI; like LLVM's
                // executor, we trust the controller that a non-zero address
                // names such a function (it only sends addresses we
                // announced or code it linked into this process).
                let call = match unsafe { IncomingCall::sync_at(ExecutorAddr(h.tag)) } {
                    Ok(call) => call,
                    Err(e) => {
                        // Address 0 would crash: an out-of-band error (an
                        // empty Result on the wire) instead.
                        let reply = WrapperFunctionBuffer::out_of_band_error(&e.to_string());
                        ca.send_wrapper_result(h.seqno, reply);
                        return Ok(true);
                    }
                };
                let args = frame.payload;
                let leaf = self.leaves.contains(&h.tag)
                    || self
                        .leaf_tests
                        .get(&h.tag)
                        .is_some_and(|t| args.as_slice().is_some_and(|a| t.is_leaf(a)));
                if leaf {
                    // Short and never calls back: run it here rather than
                    // hand it to a worker and back (two thread wake-ups).
                    session.handle_wrapper_call_inline(h.seqno, call, args);
                } else {
                    session.handle_wrapper_call(h.seqno, call, args);
                }
                Ok(true)
            }
        }
    }

    /// Ends the connection: closes the write side, fails pending calls and
    /// notifies the Session. Runs once, on the reader thread (or in
    /// `connect` if the reader never started).
    fn finish(&self, error: Option<SimpleRemoteEpcError>) {
        let (pending, session, error) = {
            let mut st = lock(&self.state);
            if let Some(e) = error {
                st.record(e);
            }
            st.phase = Phase::Disconnected;
            (
                std::mem::take(&mut st.pending),
                st.session.clone(),
                st.unreported.take(),
            )
        };
        lock(&self.writer).close();
        for (_, f) in pending {
            f(WrapperFunctionBuffer::out_of_band_error(DISCONNECTING));
        }
        if let Some(s) = session.upgrade() {
            if let Some(e) = error {
                // The Session's owner learns why the controller went away.
                s.report_error(e.into());
            }
            s.notify_disconnected();
        }
        // Wake waiters only after the Session has been told.
        let _st = lock(&self.state);
        self.finished.notify_all();
    }

    fn reader_loop(
        &self,
        ca: Arc<SimpleRemoteEpcControllerAccess>,
        mut reader: BufReader<TransportReader>,
        session: Weak<Session>,
    ) {
        let error = loop {
            match read_frame_buffer_for(&mut reader, self.prewrite_tags) {
                Ok(None) => {
                    if tracing() {
                        trace_line(format_args!("C->E end-of-file"));
                    }
                    break None;
                }
                Ok(Some(frame)) => match self.handle_frame(&ca, &session, frame) {
                    Ok(true) => {}
                    Ok(false) => break None,
                    Err(e) => break Some(e),
                },
                Err(FrameError::Io(e))
                    if e.kind() == ErrorKind::ConnectionAborted
                        && lock(&self.state).phase != Phase::Connected =>
                {
                    // Local disconnect (or a write error already recorded).
                    break None;
                }
                Err(e) => break Some(e.into()),
            }
        };
        drop(reader);
        self.finish(error);
    }
}

impl ControllerAccess for SimpleRemoteEpcControllerAccess {
    fn connect(&self, session: Weak<Session>) -> crate::Result<()> {
        let inner = &self.inner;
        {
            let mut st = lock(&inner.state);
            match st.phase {
                Phase::Idle => {
                    st.session = session.clone();
                    st.phase = Phase::Connected;
                }
                Phase::Disconnecting => {
                    // disconnect() came first: never start.
                    st.session = session.clone();
                    drop(st);
                    inner.finish(None);
                    return Ok(());
                }
                Phase::Connected | Phase::Disconnected => {
                    return Err(SimpleRemoteEpcError::AlreadyConnected.into())
                }
            }
        }
        // The reader thread starts first and readies itself (thread start,
        // its allocator arena, its read buffer) while Setup goes out and the
        // controller digests it, so the first call does not wait for that.
        // It reads only once Setup is written: nothing may precede Setup.
        let Some(reader) = lock(&inner.reader).take() else {
            inner.finish(Some(SimpleRemoteEpcError::ReaderGone));
            return Ok(());
        };
        let ca = Arc::new(SimpleRemoteEpcControllerAccess {
            inner: inner.clone(),
        });
        let thread_inner = inner.clone();
        let (setup_sent, setup_sent_rx) = mpsc::sync_channel::<bool>(1);
        let spawned = std::thread::Builder::new()
            .name("orc-rt-epc-reader".to_string())
            .spawn(move || {
                let reader = BufReader::with_capacity(READ_BUFFER, reader);
                if setup_sent_rx.recv() == Ok(true) {
                    thread_inner.reader_loop(ca, reader, session);
                }
            });
        if let Err(e) = spawned {
            inner.finish(Some(SimpleRemoteEpcError::ReaderThread(e)));
            return Ok(());
        }
        let info = self.executor_info();
        let payload = crate::sps::serialize_to_vec(&info);
        if let Err(e) = inner.send(Opcode::Setup, 0, 0, &payload) {
            // The reader thread ends without reading.
            let _ = setup_sent.send(false);
            inner.finish(Some(SimpleRemoteEpcError::Write(e)));
            return Ok(());
        }
        let _ = setup_sent.send(true);
        Ok(())
    }

    fn disconnect(&self) {
        let mut st = lock(&self.inner.state);
        match st.phase {
            Phase::Idle => st.phase = Phase::Disconnecting,
            Phase::Connected => {
                st.phase = Phase::Disconnecting;
                drop(st);
                self.inner.waker.wake();
            }
            Phase::Disconnecting | Phase::Disconnected => {}
        }
    }

    fn call_controller(
        &self,
        tag: HandlerTag,
        args: WrapperFunctionBuffer,
        on_complete: OnCallControllerCompleteFn,
    ) {
        self.inner.call_controller(tag, args, on_complete);
    }

    fn send_wrapper_result(&self, call_id: u64, result: WrapperFunctionBuffer) {
        let payload: &[u8] = match result.as_slice() {
            Some(b) => b,
            None => {
                // LLVM 22 sends an out-of-band error as an empty Result.
                if tracing() {
                    if let Some(m) = result.out_of_band_error_message() {
                        trace_line(format_args!("call seq={call_id} failed out-of-band: {m:?}"));
                    }
                }
                &[]
            }
        };
        if lock(&self.inner.writer).is_closed() {
            return; // the controller is gone; nobody waits for this result
        }
        if let Err(e) = self.inner.send(Opcode::Result, call_id, 0, payload) {
            self.inner.on_write_error(e);
        }
    }
}

/// The body of `__llvm_orc_SimpleRemoteEPC_dispatch_fn`: sends
/// `CallWrapper{tag, args}` to the controller of the connection whose
/// dispatch context is `ctx` and blocks until its Result arrives.
///
/// Returns an out-of-band error if `ctx` is not a live dispatch context,
/// if the connection has ended (`jit_dispatch not available (EPC server
/// shut down)`) or ends before the Result comes (`disconnecting`).
pub fn jit_dispatch(ctx: u64, tag: u64, args: &[u8]) -> WrapperFunctionBuffer {
    let inner = lock(&DISPATCH_CONTEXTS).get(&ctx).and_then(Weak::upgrade);
    let Some(inner) = inner else {
        return WrapperFunctionBuffer::out_of_band_error(&format!(
            "jit_dispatch: {ctx:#x} is not a SimpleRemoteEPC dispatch context"
        ));
    };
    if lock(&inner.state).phase != Phase::Connected {
        return WrapperFunctionBuffer::out_of_band_error(DISPATCH_UNAVAILABLE);
    }
    let (tx, rx) = mpsc::sync_channel(1);
    inner.call_controller(
        ExecutorAddr(tag),
        WrapperFunctionBuffer::from_slice(args),
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    );
    drop(inner);
    rx.recv()
        .unwrap_or_else(|_| WrapperFunctionBuffer::out_of_band_error(DISCONNECTING))
}

/// `__llvm_orc_SimpleRemoteEPC_dispatch_fn`: LLVM 22's JIT dispatch entry
/// (`CWrapperFunctionBuffer (void *Ctx, const void *Tag, const char *Data,
/// size_t Size)`). Not exported by name: its address travels in Setup.
///
/// Blocks the calling thread until the controller answers. `ctx` is only
/// compared against live dispatch contexts, never dereferenced.
///
/// # Safety
/// `data` points at `size` readable bytes (or `size` is 0).
unsafe extern "C" fn dispatch_fn(
    ctx: *mut c_void,
    tag: *const c_void,
    data: *const c_char,
    size: usize,
) -> orc_rt_WrapperFunctionBuffer {
    catch_to_buffer(DISPATCH_FN_SYMBOL, || {
        // SAFETY: caller promise: `size` readable bytes at `data`, lent for
        // the duration of this call.
        match unsafe { arg_bytes(data, size) } {
            Some(args) => jit_dispatch(ctx as usize as u64, tag as usize as u64, args),
            None => WrapperFunctionBuffer::out_of_band_error(
                "jit_dispatch: NULL argument data with a non-zero size",
            ),
        }
    })
    .into_raw()
}

/// Address of the dispatch entry, announced as
/// `__llvm_orc_SimpleRemoteEPC_dispatch_fn` in Setup.
pub fn dispatch_fn_address() -> ExecutorAddr {
    ExecutorAddr(dispatch_fn as *const () as usize as u64)
}
