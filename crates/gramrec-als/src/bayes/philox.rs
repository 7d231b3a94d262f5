//! Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
//! 3", SC 2011): a counter-based generator. A draw is a pure function of a
//! key (the run's seed) and a counter (which sweep, which side, which row,
//! which draw), so every row's draws are the same whatever thread — or
//! device — computes them, and in whatever order: the sampler's results do
//! not depend on the thread count, and a GPU kernel can make the same draws
//! with a few integer multiplies.

/// The multipliers and key increments of Philox4x32.
const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// Four 32-bit words from counter `c` under `key`: ten Philox rounds.
pub fn philox4x32(mut c: [u32; 4], mut key: [u32; 2]) -> [u32; 4] {
    for round in 0..10 {
        if round > 0 {
            key = [key[0].wrapping_add(W0), key[1].wrapping_add(W1)];
        }
        let p0 = u64::from(M0) * u64::from(c[0]);
        let p1 = u64::from(M1) * u64::from(c[2]);
        let (hi0, lo0) = ((p0 >> 32) as u32, p0 as u32);
        let (hi1, lo1) = ((p1 >> 32) as u32, p1 as u32);
        c = [hi1 ^ c[1] ^ key[0], lo1, hi0 ^ c[3] ^ key[1], lo0];
    }
    c
}

/// A stream of standard normal draws at one place of a run: the first
/// three counter words name the place (in the sampler, the row ID's hash,
/// low and high word, and the half-iteration: sweep × 2, + 1 for items),
/// the fourth counts pairs of draws within it.
#[derive(Debug, Clone)]
pub struct Normals {
    key: [u32; 2],
    place: [u32; 3],
    block: u32,
    spare: Option<f32>,
}

impl Normals {
    /// The draws at `place` of the run seeded with `seed`.
    pub fn new(seed: u64, place: [u32; 3]) -> Self {
        Self { key: [seed as u32, (seed >> 32) as u32], place, block: 0, spare: None }
    }

    /// A row's draws in half-iteration `half` of the run seeded with
    /// `seed`: keyed by the FNV-1a hash of the row's ID (as the starting
    /// factors are), so the same data in another row order draws the same.
    pub fn for_row(seed: u64, id: &str, half: u32) -> Self {
        let h = crate::driver::id_hash(id);
        Self::new(seed, [h as u32, (h >> 32) as u32, half])
    }

    /// The next N(0, 1) draw, in f32: Box–Muller on two 24-bit uniforms of
    /// (0, 1), so two draws per four words (the other two words are unused:
    /// a GPU kernel then makes the same draws with one Philox call per pair).
    pub fn draw(&mut self) -> f32 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let [a, b, ..] = philox4x32([self.place[0], self.place[1], self.place[2], self.block], self.key);
        self.block = self.block.wrapping_add(1);
        let (u1, u2) = (open_unit(a), open_unit(b));
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = std::f32::consts::TAU * u2;
        self.spare = Some(radius * angle.sin());
        radius * angle.cos()
    }
}

/// A uniform draw of (0, 1] from a 32-bit word: its top 24 bits, centred in
/// their interval, so 0 (whose logarithm is infinite) never occurs; the
/// largest rounds to 1 in f32, where Box–Muller gives a draw of 0.
fn open_unit(w: u32) -> f32 {
    ((w >> 8) as f32 + 0.5) * (1.0 / (1u32 << 24) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The known-answer vectors of Random123's `kat_vectors` for philox4x32 10 rounds.
    #[test]
    fn philox_matches_the_reference_vectors() {
        assert_eq!(philox4x32([0; 4], [0; 2]), [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]);
        assert_eq!(philox4x32([u32::MAX; 4], [u32::MAX; 2]), [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]);
        assert_eq!(
            philox4x32([0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344], [0xa409_3822, 0x299f_31d0]),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }

    #[test]
    fn normal_draws_have_the_moments_of_a_standard_normal() {
        let n = 200_000;
        let mut draws = Normals::new(7, [1, 2, 3]);
        let z: Vec<f64> = (0..n).map(|_| f64::from(draws.draw())).collect();
        let moment = |p: i32| z.iter().map(|v| v.powi(p)).sum::<f64>() / n as f64;
        // Standard errors at n = 200,000: mean 0.0022, variance 0.0032, 4th moment 0.022.
        assert!(moment(1).abs() < 0.01, "mean {}", moment(1));
        assert!((moment(2) - 1.0).abs() < 0.015, "variance {}", moment(2));
        assert!(moment(3).abs() < 0.03, "third moment {}", moment(3));
        assert!((moment(4) - 3.0).abs() < 0.1, "fourth moment {}", moment(4));
        let beyond = z.iter().filter(|v| v.abs() > 1.96).count() as f64 / n as f64;
        assert!((beyond - 0.05).abs() < 0.003, "P(|z| > 1.96) = {beyond}");
    }

    #[test]
    fn a_place_gives_the_same_draws_and_other_places_other_draws() {
        let take = |seed, place| {
            let mut d = Normals::new(seed, place);
            (0..5).map(|_| d.draw()).collect::<Vec<_>>()
        };
        assert_eq!(take(1, [4, 5, 0]), take(1, [4, 5, 0]));
        assert_ne!(take(1, [4, 5, 0]), take(1, [4, 5, 1]));
        assert_ne!(take(1, [4, 5, 0]), take(2, [4, 5, 0]));
        assert_ne!(take(1 << 40, [4, 5, 0]), take(0, [4, 5, 0]), "the seed's high word counts");
    }
}
