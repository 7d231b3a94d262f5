// A row's standard normal draws for Bayesian PMF, the same as gramrec-als's
// bayes::Normals makes on the CPU: Philox4x32-10 (Salmon et al., SC 2011)
// keyed by the run's seed, its counter the row ID's hash, the half-iteration
// and the pair of draws; Box–Muller on two 24-bit uniforms of (0, 1).
// Element k of a row is the cosine draw of pair k/2 when k is even, else
// its sine draw. Needs row_common.wgsl (binding 5 holds the keys).

// The high and low words of a × b (WGSL has no 64-bit integers).
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
    let al = a & 0xffffu;
    let ah = a >> 16u;
    let bl = b & 0xffffu;
    let bh = b >> 16u;
    let ll = al * bl;
    let lh = al * bh;
    let hl = ah * bl;
    let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
    let lo = (mid << 16u) | (ll & 0xffffu);
    let hi = ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
    return vec2<u32>(hi, lo);
}

fn philox(counter: vec4<u32>, seed: vec2<u32>) -> vec4<u32> {
    var c = counter;
    var key = seed;
    for (var round = 0u; round < 10u; round++) {
        if round > 0u {
            key += vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
        }
        let p0 = mulhilo(0xD2511F53u, c.x);
        let p1 = mulhilo(0xCD9E8D57u, c.z);
        c = vec4<u32>(p1.x ^ c.y ^ key.x, p1.y, p0.x ^ c.w ^ key.y, p0.y);
    }
    return c;
}

// The 32-bit word of binding 5's two 16-bit parts at `at`.
fn prior_word(at: u32) -> u32 {
    return u32(gram[at]) | (u32(gram[at + 1u]) << 16u);
}

// Element k of the draws of this side's row `row` in the half-iteration
// binding 5 names.
fn normal_draw(row: u32, k: u32) -> f32 {
    let h = D * D + D;
    let half = u32(gram[h + 1u]);
    let seed = vec2<u32>(prior_word(h + 2u), prior_word(h + 4u));
    var key = h + PRIOR_HEADER + 4u * row;
    if (half & 1u) == 1u {
        key += 4u * prior_word(h + 6u);
    }
    let c = philox(vec4<u32>(prior_word(key), prior_word(key + 2u), half, k / 2u), seed);
    let u1 = (f32(c.x >> 8u) + 0.5) * (1.0 / 16777216.0);
    let u2 = (f32(c.y >> 8u) + 0.5) * (1.0 / 16777216.0);
    let radius = sqrt(-2.0 * log(u1));
    let angle = 6.2831855 * u2;
    return select(radius * sin(angle), radius * cos(angle), k % 2u == 0u);
}
