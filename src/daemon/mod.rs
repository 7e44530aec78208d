//! The daemon: every trigger becomes one [`Trigger`] on one channel; a
//! burst is debounced into one reload of the newest revision; a reload
//! builds the snapshot, publishes the access file atomically and only then
//! swaps the current `Arc<Snapshot>`. A failed reload keeps the last good
//! snapshot and file and records why.
//!
//! At start the daemon locks its state folder (a second daemon on the same
//! folder refuses to start), resolves a symlinked `--access-out` once and
//! removes temporary files a killed predecessor left. A deleted output or
//! state folder is recreated at the next publication (with a new lock and
//! hook socket for the state folder).
//!
//! Files: `run` (start and the loop), `settings`, `triggers`, `debounce`,
//! `reload` (`Reloader::reload`: read → build → guard rails → decide → publish →
//! record), `outcome` (what a reload came to, as a value, and how it
//! changes the status), `state` (state.json, the audit log, the lock),
//! `cache` (the cache of the applied revision's files for the hooks),
//! `recorder` (the one ordered writer of state.json, the audit log and
//! the status, off the reload's path), `follow` (the fetch step of a
//! daemon that follows a remote: the remote's newest revision into the
//! mirror the reload reads, never going back), `notice` (the hooks'
//! notification line and who pushed which revision), `reload_log` (the
//! one log line of a reload), `repeats` (a failure repeated unchanged is
//! logged and audited once, then counted), `reconfig` (what SIGHUP
//! re-reads and which settings it changes live), `sdnotify` (systemd's
//! readiness protocol and watchdog), `directory` (the directory as a
//! second source: the sync task, the last good answer, stale and held
//! back), `directory_store` (that answer on disk, `directory.snapshot`,
//! for a restart and the hooks), `validate` (the validation socket: a
//! hook's change judged against the applied revision's build),
//! `validate_wire` (its protocol and the hook's client), `validate_verdict`
//! (the one verdict of a hook's change, for the hook and the daemon).

mod cache;
mod changes;
mod debounce;
mod directory;
pub mod directory_store;
mod follow;
pub mod notice;
mod outcome;
mod reconfig;
mod recorder;
mod reload;
mod reload_log;
mod repeats;
mod run;
mod sdnotify;
mod settings;
pub mod state;
mod triggers;
mod validate;
pub mod validate_verdict;
pub mod validate_wire;

pub use crate::current::{Attempt, Current, ReloadResult, Status, Trigger};
pub use debounce::default_quiet;
pub use directory::{DirectorySettings, SyncFn, SyncFuture};
pub use reconfig::{Live, Reconfig, Reread, Setting};
pub use run::run;
pub use sdnotify::Notifier;
pub use settings::Settings;
pub use triggers::HOOK_SOCKET;
