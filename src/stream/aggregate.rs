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

/// The fields an aggregate's output records carry, in order: `start`, `end`, then one per
/// function — named after the function for one field (Flink's columns), `field_function` for
/// several.
pub fn output_fields(functions: &[AggregateFn], fields: &[String]) -> Vec<String> {
    let mut out = vec!["start".to_owned(), "end".to_owned()];
    if fields.len() <= 1 {
        out.extend(functions.iter().map(|f| f.name().to_owned()));
    } else {
        for field in fields {
            out.extend(functions.iter().map(|f| format!("{field}_{}", f.name())));
        }
    }
    out
}

/// The record `{start, end, <functions per field>}` of a window result, with its key and event
/// time. `stats_indices` pick which of the window's kept fields the functions read.
pub fn aggregate_record(
    functions: &[AggregateFn],
    window: &WindowResult,
    stats_indices: &[usize],
) -> Record {
    let mut values = Values::new();
    values.push(window.start as f64);
    values.push(window.end as f64);
    for &index in stats_indices {
        match window.stats(index) {
            Some(stats) => values.extend(functions.iter().map(|f| f.of(stats))),
            None => values.extend(functions.iter().map(|_| f64::NAN)),
        }
    }
    Record {
        key: window.key.clone(),
        ts: window.ts,
        values,
    }
}

/// Window result → record of statistics with the window's key and event time.
pub struct AggregateOperator {
    functions: Vec<AggregateFn>,
    /// Which of the window's kept statistics this aggregate reads, in output order.
    stats_indices: Vec<usize>,
}

impl AggregateOperator {
    pub fn new(functions: Vec<AggregateFn>, stats_indices: Vec<usize>) -> Self {
        Self {
            functions,
            stats_indices,
        }
    }
}

impl Operator for AggregateOperator {
    fn on_item(&mut self, _port: usize, item: Item, out: &mut Outputs) -> OpResult {
        let Item::Window(window) = item else {
            return Ok(());
        };
        if self
            .stats_indices
            .iter()
            .any(|&i| window.stats(i).is_none())
        {
            return Err(OpError::new(
                "the window keeps no statistics for the aggregated field",
            ));
        }
        out.push(
            0,
            Item::Record(aggregate_record(
                &self.functions,
                &window,
                &self.stats_indices,
            )),
        );
        Ok(())
    }
}
