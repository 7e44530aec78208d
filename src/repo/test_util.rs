//! What the tests of the incremental reads share: a reproducible random
//! source and the comparison of an incremental read with the full one.

use super::Error;
use crate::snapshot::Input;

/// xorshift64: reproducible, no dependency.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The two reads agree: the same files, revision, metadata and stop, or
/// the same refusal.
pub(crate) fn assert_same_read(inc: &Result<Input, Error>, full: &Result<Input, Error>, at: &str) {
    match (inc, full) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.revision, b.revision, "{at}");
            assert_eq!(a.meta, b.meta, "{at}");
            assert_eq!(a.incomplete, b.incomplete, "{at}");
            assert_eq!(a.files, b.files, "{at}");
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{at}"),
        (a, b) => panic!("{at}: incremental {a:?} but full {b:?}"),
    }
}
