//! Incremental statistics of one field: count, sum (in arrival order, as Flink adds), min, max,
//! mean, and variance from sums shifted by the first value (stable without a division per
//! element, so the hot path stays cheap).

/// Running statistics. `sum` is accumulated in arrival order so results equal Flink's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    /// The first value seen; the variance sums are taken around it.
    shift: f64,
    shifted_sum: f64,
    shifted_squares: f64,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            shift: 0.0,
            shifted_sum: 0.0,
            shifted_squares: 0.0,
        }
    }
}

impl Stats {
    /// Statistics that know only how many elements there were (no field to aggregate).
    pub fn count_only(count: u64) -> Self {
        Self {
            count,
            sum: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
            shift: 0.0,
            shifted_sum: f64::NAN,
            shifted_squares: f64::NAN,
        }
    }

    #[inline]
    pub fn add(&mut self, x: f64) {
        if self.count == 0 {
            self.shift = x;
        }
        self.count += 1;
        self.sum += x;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        let d = x - self.shift;
        self.shifted_sum += d;
        self.shifted_squares += d * d;
    }

    /// Combines two disjoint sets, e.g. merged sessions; the other's sums are re-centred.
    pub fn merge(&mut self, other: &Stats) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        let n2 = other.count as f64;
        let delta = other.shift - self.shift;
        self.shifted_squares +=
            other.shifted_squares + 2.0 * delta * other.shifted_sum + n2 * delta * delta;
        self.shifted_sum += other.shifted_sum + n2 * delta;
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// sum / count, as Flink's reference computes it; NaN for an empty window.
    pub fn mean(&self) -> f64 {
        self.sum / self.count as f64
    }

    /// Population variance; 0 for a single element.
    pub fn variance(&self) -> f64 {
        if self.count == 0 {
            return f64::NAN;
        }
        let n = self.count as f64;
        ((self.shifted_squares - self.shifted_sum * self.shifted_sum / n) / n).max(0.0)
    }

    pub fn std(&self) -> f64 {
        self.variance().sqrt()
    }

    pub fn of(values: impl IntoIterator<Item = f64>) -> Self {
        let mut s = Stats::default();
        for x in values {
            s.add(x);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variance_matches_the_two_pass_formula() {
        let xs = [10.5, 3.25, 7.0, 12.0, -4.5, 9.75];
        let s = Stats::of(xs);
        let mean = xs.iter().sum::<f64>() / 6.0;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 6.0;
        assert!((s.variance() - var).abs() < 1e-12);
        assert_eq!(s.min, -4.5);
        assert_eq!(s.max, 12.0);
        assert_eq!(s.count, 6);
    }

    #[test]
    fn variance_stays_accurate_far_from_zero() {
        // Naive sum-of-squares loses every digit here; shifted sums do not.
        let xs: Vec<f64> = (0..1000).map(|i| 1e9 + (i % 10) as f64).collect();
        let s = Stats::of(xs.iter().copied());
        assert!((s.variance() - 8.25).abs() < 1e-6, "{}", s.variance());
    }

    #[test]
    fn merged_stats_equal_stats_of_the_union() {
        let (a, b) = ([1.0, 2.0, 3.0], [10.0, 20.0]);
        let mut left = Stats::of(a);
        left.merge(&Stats::of(b));
        let all = Stats::of(a.into_iter().chain(b));
        assert_eq!(left.count, all.count);
        assert!((left.variance() - all.variance()).abs() < 1e-9);
        assert_eq!(left.sum, all.sum);
    }
}
