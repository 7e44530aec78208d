//! Writing the cache of the last applied revision's files (`repo::cache`,
//! `last-good.files`) into the state folder after each publication, on the
//! blocking pool: the reload does not wait for it (copying the files, encoding, the checksum,
//! the write and its fsync cost a few to tens of ms on the 10,000-user
//! tree's 4.9 MB). The same copy then goes to the validator
//! (`validate`), which builds it with its own memo.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::repo;
use crate::snapshot::Input;

/// Writes the cache in the background, one write at a time; a write that
/// a later one overtook is skipped, so the cache never goes back to an
/// older revision.
#[derive(Debug, Default, Clone)]
pub(super) struct CacheWriter {
    /// The number of the newest write asked for.
    asked: Arc<AtomicU64>,
    /// The number of the newest write done (held while writing).
    done: Arc<Mutex<u64>>,
    /// Given each revision written, to judge the hooks' changes against.
    validator: Option<super::validate::Validator>,
}

impl CacheWriter {
    /// A writer that hands each revision written to `validator` too.
    pub(super) fn with_validator(validator: Option<super::validate::Validator>) -> Self {
        CacheWriter {
            validator,
            ..CacheWriter::default()
        }
    }

    /// Write `input`, the files of the revision just published, as the
    /// cache in the state folder `dir`. A failure is logged: the hooks then
    /// read an older revision's cache, or in full.
    /// `input` is copied on the blocking pool and let go at once, so that
    /// the next read, which takes it back, rarely finds it shared.
    pub(super) fn write(&self, source: &repo::Source, dir: &Path, input: &Arc<Input>) {
        let number = self.asked.fetch_add(1, Ordering::SeqCst) + 1;
        let (source, dir, shared) = (source.clone(), dir.to_owned(), Arc::clone(input));
        let (done, validator) = (self.done.clone(), self.validator.clone());
        tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let input = Input::clone(&shared);
            drop(shared);
            tracing::debug!(
                revision = %input.revision,
                us = started.elapsed().as_micros() as u64,
                "the files of the applied revision copied for the cache writer"
            );
            let Ok(mut done) = done.lock() else {
                return;
            };
            if *done > number {
                return;
            }
            let started = std::time::Instant::now();
            match source.store_cache(&dir, &input) {
                Ok(()) => tracing::debug!(
                    revision = %input.revision,
                    ms = started.elapsed().as_millis() as u64,
                    "cache of the applied revision written"
                ),
                Err(e) => tracing::warn!(
                    error = %e,
                    "cannot write the cache of the applied revision; hooks read more"
                ),
            }
            *done = number;
            if let Some(validator) = validator {
                validator.update(&source, input);
            }
        });
    }
}
