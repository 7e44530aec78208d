//! The hash of the indexes of `authz` and `policy` (and of the diff's
//! sets): SipHash-1-3 under keys drawn once per process (std's
//! `RandomState`). Their keys are names and rule paths from the
//! configuration repository, which a committer writes: an unkeyed hash
//! (this module was FxHash until issue 13) lets them be chosen so that
//! they all fall into one bucket and every insert walks all the others
//! (see the test below), so the hash is keyed, integer writes included
//! (the rule tree hashes the bytes of a path segment as words).

use std::collections::HashMap;
use std::collections::hash_map::{DefaultHasher, RandomState};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// The keys of this process, drawn once from the system's randomness.
fn process_keys() -> &'static RandomState {
    static KEYS: OnceLock<RandomState> = OnceLock::new();
    KEYS.get_or_init(RandomState::new)
}

/// A keyed hasher (SipHash-1-3 under the process's keys). The name is
/// the module's old one, kept so that its users need not change.
#[derive(Debug, Clone)]
pub struct FxHasher(DefaultHasher);

impl Default for FxHasher {
    fn default() -> Self {
        FxHasher(process_keys().build_hasher())
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }

    fn write_u8(&mut self, i: u8) {
        self.0.write_u8(i);
    }

    fn write_u32(&mut self, i: u32) {
        self.0.write_u32(i);
    }

    fn write_u64(&mut self, i: u64) {
        self.0.write_u64(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.0.write_usize(i);
    }

    fn finish(&self) -> u64 {
        self.0.finish()
    }
}

pub type FxBuild = BuildHasherDefault<FxHasher>;
pub type FxHashMap<K, V> = HashMap<K, V, FxBuild>;

#[cfg(test)]
mod tests {
    //! Hash flooding: the keys of these maps come from the configuration
    //! repository (logins, group names, rule paths), which a committer
    //! writes. An unkeyed hash lets them be chosen so that they all fall
    //! into one bucket, and every insert then walks all the others.

    use std::collections::HashSet;
    use std::hash::{BuildHasher, Hasher};

    use super::{FxBuild, FxHasher};
    use crate::ident::Login;

    const K: u64 = 0x517c_c1b7_2722_0a95;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// The word step of the FxHash the code once used, as anyone who
    /// reads the source can compute it offline.
    fn step(state: u64, word: u64) -> u64 {
        (state.rotate_left(5) ^ word).wrapping_mul(K)
    }

    /// A tiny deterministic generator (xorshift), so the test needs no seed.
    struct Rng(u64);
    impl Rng {
        fn word(&mut self) -> [u8; 8] {
            let mut w = [0u8; 8];
            for b in &mut w {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                *b = ALPHABET[(self.0 % ALPHABET.len() as u64) as usize];
            }
            w
        }
    }

    /// For the state `s`, two 16-byte blocks of alphabet characters that
    /// both lead the unkeyed hash to one same state, and that state.
    fn colliding_blocks(s: u64, rng: &mut Rng) -> ([u8; 16], [u8; 16], u64) {
        loop {
            let (a, b) = (rng.word(), rng.word());
            let ta = step(s, u64::from_le_bytes(a)).rotate_left(5);
            let tb = step(s, u64::from_le_bytes(b)).rotate_left(5);
            // Second words x (for a) and y (for b) with ta ^ x == tb ^ y.
            let d = (ta ^ tb).to_le_bytes();
            let mut x = [0u8; 8];
            let mut y = [0u8; 8];
            let found = (0..8).all(|i| {
                ALPHABET.iter().any(|&c| {
                    let other = c ^ d[i];
                    (x[i], y[i]) = (c, other);
                    ALPHABET.contains(&other)
                })
            });
            if found {
                let next = step(s, u64::from_le_bytes(a));
                let next = step(next, u64::from_le_bytes(x));
                let mut first = [0u8; 16];
                let mut second = [0u8; 16];
                first[..8].copy_from_slice(&a);
                first[8..].copy_from_slice(&x);
                second[..8].copy_from_slice(&b);
                second[8..].copy_from_slice(&y);
                return (first, second, next);
            }
        }
    }

    /// 2^stages names of 16 × stages characters on which the unkeyed
    /// hash has one value (a multicollision, block by block).
    fn flood(stages: usize) -> Vec<String> {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut names = vec![Vec::new()];
        let mut s = 0u64;
        for _ in 0..stages {
            let (first, second, next) = colliding_blocks(s, &mut rng);
            names = names
                .into_iter()
                .flat_map(|n: Vec<u8>| {
                    let mut a = n.clone();
                    a.extend_from_slice(&first);
                    let mut b = n;
                    b.extend_from_slice(&second);
                    [a, b]
                })
                .collect();
            s = next;
        }
        names
            .into_iter()
            .map(|n| String::from_utf8(n).expect("alphabet is ASCII"))
            .collect()
    }

    fn unkeyed(bytes: &[u8]) -> u64 {
        bytes.chunks(8).fold(0, |s, c| {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            step(s, u64::from_le_bytes(w))
        })
    }

    #[test]
    fn names_crafted_against_the_public_hash_do_not_share_a_bucket() {
        let names = flood(10);
        assert_eq!(names.len(), 1024);
        // The attack is real: valid logins, one value of the unkeyed hash.
        let unkeyed: HashSet<u64> = names.iter().map(|n| unkeyed(n.as_bytes())).collect();
        assert_eq!(unkeyed.len(), 1, "the construction collides");
        assert!(names.iter().all(|n| Login::new(n).is_ok()));
        // The maps' hash is keyed: the crafted names spread out, as strings
        // and as the words the access file's rule tree hashes.
        let build = FxBuild::default();
        let as_str: HashSet<u64> = names.iter().map(|n| build.hash_one(n.as_str())).collect();
        assert_eq!(as_str.len(), names.len());
        let as_words: HashSet<u64> = names
            .iter()
            .map(|n| {
                let mut h = FxHasher::default();
                for c in n.as_bytes().chunks(8) {
                    let mut w = [0u8; 8];
                    w.copy_from_slice(c);
                    h.write_u64(u64::from_le_bytes(w));
                }
                h.finish()
            })
            .collect();
        assert_eq!(as_words.len(), names.len());
    }
}
