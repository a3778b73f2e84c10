//! Turns window results into records of statistics: count, sum, min, max, mean, variance, std.

use super::{Item, OpError, OpResult, Operator, Outputs, Record, Values, WindowResult};

/// One statistic of a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggregateFn {
    Count,
    Sum,
    Min,
    Max,
    Mean,
    Variance,
    Std,
}

impl AggregateFn {
    pub const NAMES: &'static [&'static str] =
        &["count", "sum", "min", "max", "mean", "variance", "std"];

    pub fn parse(name: &str) -> Result<Self, String> {
        Ok(match name {
            "count" => AggregateFn::Count,
            "sum" => AggregateFn::Sum,
            "min" => AggregateFn::Min,
            "max" => AggregateFn::Max,
            "mean" | "avg" => AggregateFn::Mean,
            "variance" | "var" => AggregateFn::Variance,
            "std" => AggregateFn::Std,
            other => {
                return Err(format!(
                    "unknown function '{other}', expected any of: {}",
                    Self::NAMES.join(", ")
                ));
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            AggregateFn::Count => "count",
            AggregateFn::Sum => "sum",
            AggregateFn::Min => "min",
            AggregateFn::Max => "max",
            AggregateFn::Mean => "mean",
            AggregateFn::Variance => "variance",
            AggregateFn::Std => "std",
        }
    }

    /// This statistic of a window's values.
    pub fn of(self, stats: &super::stats::Stats) -> f64 {
        match self {
            AggregateFn::Count => stats.count as f64,
            AggregateFn::Sum => stats.sum,
            AggregateFn::Min => stats.min,
            AggregateFn::Max => stats.max,
            AggregateFn::Mean => stats.mean(),
            AggregateFn::Variance => stats.variance(),
            AggregateFn::Std => stats.std(),
        }
    }
}

/// The fields an aggregate's output records carry, in order.
pub fn output_fields(functions: &[AggregateFn]) -> Vec<String> {
    ["start", "end"]
        .into_iter()
        .map(str::to_owned)
        .chain(functions.iter().map(|f| f.name().to_owned()))
        .collect()
}

/// The record `{start, end, <functions>}` of a window result, with its key and event time.
/// `stats_index` picks which of the window's kept fields the functions read.
pub fn aggregate_record(
    functions: &[AggregateFn],
    window: &WindowResult,
    stats_index: usize,
) -> Record {
    let mut values = Values::new();
    values.push(window.start as f64);
    values.push(window.end as f64);
    match window.stats(stats_index) {
        Some(stats) => values.extend(functions.iter().map(|f| f.of(stats))),
        None => values.extend(functions.iter().map(|_| f64::NAN)),
    }
    Record {
        key: window.key.clone(),
        ts: window.ts,
        values,
    }
}

/// Window result → record `{start, end, <functions>}` with the window's key and event time.
pub struct AggregateOperator {
    functions: Vec<AggregateFn>,
    /// Which of the window's kept statistics this aggregate reads.
    stats_index: usize,
}

impl AggregateOperator {
    pub fn new(functions: Vec<AggregateFn>, stats_index: usize) -> Self {
        Self {
            functions,
            stats_index,
        }
    }
}

impl Operator for AggregateOperator {
    fn on_item(&mut self, _port: usize, item: Item, out: &mut Outputs) -> OpResult {
        let Item::Window(window) = item else {
            return Ok(());
        };
        if window.stats(self.stats_index).is_none() {
            return Err(OpError::new(
                "the window keeps no statistics for the aggregated field",
            ));
        }
        out.push(
            0,
            Item::Record(aggregate_record(&self.functions, &window, self.stats_index)),
        );
        Ok(())
    }
}
