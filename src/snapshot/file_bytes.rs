//! [`FileBytes`]: one file's bytes as a reader hands them to the build —
//! shared (a clone is a reference count) and checked for UTF-8 once, when
//! made — so that a revision's unchanged files are the very buffers of
//! the read before (the readers move them over) and the build's memo
//! knows them by identity: neither compared byte by byte nor validated
//! again.
//!
//! The identity is sound by construction: the buffer is immutable, and
//! whoever compares two of them (the memo) holds one, so no other live
//! buffer can sit at its address. Two different buffers with equal bytes
//! are equal files too ([`PartialEq`] compares bytes); the memo falls
//! back to that comparison.

use std::collections::BTreeMap;
use std::sync::Arc;

/// A revision's files by path, each shared ([`FileBytes`]: a reader moves
/// an unchanged file's buffer from its read before into the next).
pub type Files = BTreeMap<String, FileBytes>;

/// A file's bytes: text (valid UTF-8, checked when made) or not.
#[derive(Clone)]
pub struct FileBytes(Repr);

#[derive(Clone)]
enum Repr {
    Text(Arc<str>),
    Binary(Arc<[u8]>),
}

impl FileBytes {
    /// The bytes, shared; their UTF-8 is checked here, once.
    pub fn new(bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(text) => FileBytes(Repr::Text(text.into())),
            Err(e) => FileBytes(Repr::Binary(e.into_bytes().into())),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Text(t) => t.as_bytes(),
            Repr::Binary(b) => b,
        }
    }

    /// The text, or where the bytes stop being UTF-8 (the check made when
    /// the value was made is not repeated for text).
    pub fn text(&self) -> Result<&str, std::str::Utf8Error> {
        match &self.0 {
            Repr::Text(t) => Ok(t),
            Repr::Binary(b) => std::str::from_utf8(b),
        }
    }

    /// Whether `text` is this very buffer (the same memory, not merely
    /// equal bytes): then it holds these bytes, whatever they are.
    pub fn is(&self, text: &[u8]) -> bool {
        let mine = self.as_bytes();
        std::ptr::eq(mine.as_ptr(), text.as_ptr()) && mine.len() == text.len()
    }
}

impl Default for FileBytes {
    fn default() -> Self {
        FileBytes(Repr::Text(Arc::from("")))
    }
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for FileBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<Vec<u8>> for FileBytes {
    fn from(bytes: Vec<u8>) -> Self {
        FileBytes::new(bytes)
    }
}

impl From<String> for FileBytes {
    fn from(text: String) -> Self {
        FileBytes(Repr::Text(text.into()))
    }
}

impl From<&str> for FileBytes {
    fn from(text: &str) -> Self {
        FileBytes(Repr::Text(text.into()))
    }
}

impl From<&[u8]> for FileBytes {
    fn from(bytes: &[u8]) -> Self {
        FileBytes::new(bytes.to_vec())
    }
}

impl<const N: usize> From<&[u8; N]> for FileBytes {
    fn from(bytes: &[u8; N]) -> Self {
        FileBytes::new(bytes.to_vec())
    }
}

impl PartialEq for FileBytes {
    fn eq(&self, other: &Self) -> bool {
        self.is(other.as_bytes()) || self.as_bytes() == other.as_bytes()
    }
}

impl Eq for FileBytes {}

impl PartialEq<[u8]> for FileBytes {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_bytes() == other
    }
}

impl PartialEq<Vec<u8>> for FileBytes {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.as_bytes() == other.as_slice()
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for FileBytes {
    fn eq(&self, other: &&[u8; N]) -> bool {
        self.as_bytes() == other.as_slice()
    }
}

impl std::fmt::Debug for FileBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_bytes(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::FileBytes;

    #[test]
    fn text_is_checked_once_and_kept_as_text() {
        let f = FileBytes::new(b"<a/>".to_vec());
        assert_eq!(f.text(), Ok("<a/>"));
        let bad = FileBytes::new(vec![b'a', 0xff]);
        assert_eq!(bad.text().map_err(|e| e.valid_up_to()), Err(1));
        assert_eq!(&*bad, &[b'a', 0xff]);
    }

    #[test]
    fn identity_is_the_buffer_not_equal_bytes() {
        let a = FileBytes::from("same");
        let b = FileBytes::from("same");
        let shared = a.clone();
        assert!(a.is(shared.as_bytes()), "a clone is the same buffer");
        assert!(
            !a.is(b.as_bytes()),
            "equal bytes elsewhere are another buffer"
        );
        assert_eq!(a, b, "but equal files");
        assert!(
            !a.is(&shared.as_bytes()[..2]),
            "a part of it is not the file"
        );
        assert_ne!(a, FileBytes::from("other"));
    }
}
