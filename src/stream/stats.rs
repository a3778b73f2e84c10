//! Incremental statistics of one field: count, sum (in arrival order, as Flink adds), min, max,
//! mean, and variance by Welford's method so that long windows stay numerically stable.

/// Running statistics. `sum` is accumulated in arrival order so results equal Flink's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    welford_mean: f64,
    welford_m2: f64,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            welford_mean: 0.0,
            welford_m2: 0.0,
        }
    }
}

impl Stats {
    pub fn add(&mut self, x: f64) {
        self.count += 1;
        self.sum += x;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        let delta = x - self.welford_mean;
        self.welford_mean += delta / self.count as f64;
        self.welford_m2 += delta * (x - self.welford_mean);
    }

    /// Combines two disjoint sets (Chan et al.'s parallel variance), e.g. merged sessions.
    pub fn merge(&mut self, other: &Stats) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        let n1 = self.count as f64;
        let n2 = other.count as f64;
        let delta = other.welford_mean - self.welford_mean;
        let n = n1 + n2;
        self.welford_mean += delta * n2 / n;
        self.welford_m2 += other.welford_m2 + delta * delta * n1 * n2 / n;
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
            f64::NAN
        } else {
            self.welford_m2 / self.count as f64
        }
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
