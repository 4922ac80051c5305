//! The one seeded generator of the reliability tests (xorshift64*): a seed
//! replays a run byte for byte, on any machine.

pub struct SeededRng(u64);

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        // Spread the seed and never start at zero (a fixed point).
        SeededRng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `range` (the modulo bias is irrelevant here).
    pub fn below(&mut self, range: std::ops::Range<u64>) -> u64 {
        range.start + self.next_u64() % (range.end - range.start)
    }

    /// Uniform in [0, max).
    pub fn fraction(&mut self, max: f64) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * max
    }

    /// `len` pseudo-random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| (self.next_u64() >> 56) as u8).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_replays_and_different_seeds_differ() {
        let run = |seed| SeededRng::new(seed).bytes(32);
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let mut rng = SeededRng::new(1);
        assert!((0..1000).all(|_| (3..9).contains(&rng.below(3..9))));
        assert!((0..1000).all(|_| rng.fraction(1.5) < 1.5));
    }
}
