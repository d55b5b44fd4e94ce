//! Session: the root object of a JIT'd program.
//!
//! PLACEHOLDER: this file states the API contract other modules build on; the
//! Session-core work replaces every body. Nothing here is done.

#![allow(missing_docs, unused_variables)]

use std::sync::Arc;

use crate::controller_access::{
    ControllerAccess, HandlerTag, IncomingCall, OnCallControllerCompleteFn,
};
use crate::ffi::wrapper_function::orc_rt_SessionRef;
use crate::service::Service;
use crate::task_dispatcher::{Task, TaskDispatcher};
use crate::{Error, Result, WrapperFunctionBuffer};

/// Receives errors nobody else can return.
pub type ErrorReporterFn = Box<dyn Fn(Error) + Send + Sync + 'static>;

/// Called once when shutdown (or detach) completes.
pub type OnCompleteFn = Box<dyn FnOnce() + Send + 'static>;

/// The root object of a JIT'd program (shared as `Arc<Session>`).
pub struct Session {
    _private: (),
}

impl Session {
    pub fn new(dispatcher: Arc<dyn TaskDispatcher>) -> Arc<Session> {
        unimplemented!("Session::new")
    }
    pub fn set_error_reporter(&self, reporter: ErrorReporterFn) {
        unimplemented!()
    }
    pub fn report_error(&self, err: Error) {
        unimplemented!()
    }
    pub fn add_service(&self, service: Arc<dyn Service>) -> Result<()> {
        unimplemented!()
    }
    pub fn attach(self: &Arc<Self>, ca: Arc<dyn ControllerAccess>) -> Result<()> {
        unimplemented!()
    }
    pub fn handle_wrapper_call(
        &self,
        call_id: u64,
        call: IncomingCall,
        args: WrapperFunctionBuffer,
    ) {
        unimplemented!()
    }
    pub fn notify_disconnected(&self) {
        unimplemented!()
    }
    pub fn call_controller(
        &self,
        tag: HandlerTag,
        args: WrapperFunctionBuffer,
        on_complete: OnCallControllerCompleteFn,
    ) {
        unimplemented!()
    }
    pub fn dispatch(&self, task: Task) {
        unimplemented!()
    }
    pub fn detach(&self, on_complete: Option<OnCompleteFn>) {
        unimplemented!()
    }
    pub fn wait_for_detach(&self) {
        unimplemented!()
    }
    pub fn shutdown(&self, on_complete: Option<OnCompleteFn>) {
        unimplemented!()
    }
    pub fn wait_for_shutdown(&self) {
        unimplemented!()
    }
    pub fn as_session_ref(self: &Arc<Self>) -> orc_rt_SessionRef {
        unimplemented!()
    }
}
