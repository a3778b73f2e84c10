//! The hot loop allocates nothing of its own: after a warm-up step at a given batch size,
//! further `train_step`s (forward, loss, backward, optimizer) make no heap allocation at
//! batch ≤ 2 (the slice kernels), and at larger batches only the one packing buffer that
//! matrixmultiply (behind ndarray's `general_mat_mul`) allocates per matrix product.
//! Counted with a global allocator; this file holds a single test so no other test pollutes
//! the count.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use flowbook::datasets;
use flowbook::nn::{Model, ModelConfig, OptimizerConfig, Targets};
use ndarray::s;

struct CountingAllocator;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

#[test]
fn training_steps_allocate_nothing_once_buffers_exist() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/example-graphs/data/digits.csv"
    );
    let data = datasets::load_digits_csv(path).unwrap();
    let labels = data.class_labels().unwrap().to_vec();
    for optimizer in [
        OptimizerConfig::adam(),
        OptimizerConfig::sgd(),
        OptimizerConfig::momentum(0.9, true),
    ] {
        for (batch, clip) in [
            (32, None),
            (1, None),
            (2, None),
            (32, Some(1.0)),
            (1, Some(1.0)),
        ] {
            let config = ModelConfig::mlp(64, &[128, 64], 10)
                .with_optimizer(optimizer)
                .with_clip_grad_norm(clip);
            let mut model = Model::new(config).unwrap();
            let x = data.x.slice(s![..batch, ..]);
            let y = Targets::Classes(&labels[..batch]);
            model.train_step(x, y).unwrap();
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            for _ in 0..20 {
                model.train_step(x, y).unwrap();
            }
            let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
            // 3 dense layers: 3 forward products, 3 weight-gradient products and 2 input-gradient
            // products (the first layer's input gradient is skipped).
            let matrix_products = if batch <= 2 { 0 } else { 8 };
            assert_eq!(
                allocations,
                20 * matrix_products,
                "{optimizer:?}, batch {batch}, clip {clip:?}: {allocations} allocations in 20 steps"
            );
        }
    }
}
