//! Runtime dispatch of hot loops to the widest vector unit of the CPU (AVX-512F, AVX2, or the
//! SSE2 baseline). The same scalar Rust loop is compiled three times; it must stay free of
//! reductions whose order could differ, so every version gives bit-identical results.

/// Defines `$vis fn $name(args) -> ret` that calls `$kernel(args)` compiled with AVX-512F or
/// AVX2 when the CPU has them. `$kernel` must be `#[inline(always)]` so that it is compiled
/// inside each target-feature wrapper.
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident => $kernel:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn wide($($arg: $ty),*) $(-> $ret)? {
                    $kernel($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                fn medium($($arg: $ty),*) $(-> $ret)? {
                    $kernel($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU supports AVX-512F, checked just above.
                    return unsafe { wide($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2, checked just above.
                    return unsafe { medium($($arg),*) };
                }
            }
            $kernel($($arg),*)
        }
    };
}

pub(crate) use multiversion;
