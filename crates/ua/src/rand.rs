//! Seedable randomness for branches, tags, Call-IDs, cnonces and the instance UUID.
//!
//! The core owns no entropy source: the host seeds it (from `crypto.getRandomValues` in the
//! browser, a constant in tests), so every test run is deterministic.

/// xoshiro256** seeded through SplitMix64. Not a CSPRNG by itself; its unpredictability comes
/// from the host's seed, which is enough for SIP tokens (RFC 3261 asks for global uniqueness and
/// 32 bits of randomness in tags, RFC 7616 for an unpredictable cnonce).
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
}

const ALPHANUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng { s: [next(), next(), next(), next()] }
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (n > 0), by rejection (no modulo bias).
    pub fn below(&mut self, n: u64) -> u64 {
        if n <= 1 {
            return 0;
        }
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }

    /// `len` lower-case alphanumeric characters (a token in every SIP grammar).
    pub fn token(&mut self, len: usize) -> String {
        (0..len).map(|_| ALPHANUM[self.below(ALPHANUM.len() as u64) as usize] as char).collect()
    }

    /// A Via branch with the RFC 3261 magic cookie.
    pub fn branch(&mut self) -> String {
        format!("z9hG4bK{}", self.token(16))
    }

    /// A random (version 4) UUID in its canonical text form.
    pub fn uuid_v4(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&a.to_be_bytes());
        bytes[8..].copy_from_slice(&b.to_be_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_for_a_seed() {
        assert_eq!(Rng::new(7).token(12), Rng::new(7).token(12));
        assert_ne!(Rng::new(7).token(12), Rng::new(8).token(12));
    }

    #[test]
    fn uuid_has_version_and_variant() {
        let u = Rng::new(1).uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
    }
}
