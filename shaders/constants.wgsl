// The model's constants, shared by every kernel: each pipeline is compiled
// with all of them (gramrec's kernels.rs passes the same list to every one),
// so loop bounds and branches are fixed for the model being trained.

override F: u32;
override D: u32;
override IMPLICIT: bool;
override BIASES: bool;
override LOG_CONFIDENCE: bool;
override REG_BY_COUNT: bool;
override REG: f32;
override ALPHA: f32;
override EPSILON: f32;
override GLOBAL_MEAN: f32;
override CG_STEPS: u32;
override MAX_CONFIDENCE: f32;
