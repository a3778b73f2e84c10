//! All-reduce of gradients between the replicas of one trainer: each replica adds its
//! gradients weighted by its rows; when all have arrived every replica reads the same average.
//! It blocks its callers (the replicas' tasks) and never spins; a stop ends the wait.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The merged result of one step.
#[derive(Debug, Default)]
pub struct Reduced {
    /// Σ rowsᵢ·gradᵢ / Σ rowsᵢ.
    pub gradients: Vec<f32>,
    pub rows: usize,
    /// Σ rowsᵢ·lossᵢ / Σ rowsᵢ.
    pub loss: f32,
    pub correct: usize,
}

#[derive(Default)]
struct Round {
    generation: u64,
    arrived: usize,
    sum: Vec<f32>,
    rows: usize,
    loss_sum: f64,
    correct: usize,
    done: Option<Arc<Reduced>>,
}

/// One all-reduce point shared by `replicas` trainer instances.
pub struct AllReduce {
    replicas: usize,
    round: Mutex<Round>,
    ready: Condvar,
    /// Tells a waiting replica that the run is stopping.
    should_stop: Box<dyn Fn() -> bool + Send + Sync>,
}

/// The run stopped while a replica waited for the others.
#[derive(Debug, PartialEq, Eq)]
pub struct Aborted;

impl AllReduce {
    pub fn new(replicas: usize, should_stop: Box<dyn Fn() -> bool + Send + Sync>) -> Self {
        Self {
            replicas: replicas.max(1),
            round: Mutex::new(Round::default()),
            ready: Condvar::new(),
            should_stop,
        }
    }

    /// Adds one replica's contribution and waits for the others; everyone gets the same result.
    /// `gradients` are the replica's mean gradients over its `rows` (ignored when rows = 0).
    pub fn reduce(
        &self,
        gradients: &[f32],
        rows: usize,
        loss: f32,
        correct: usize,
    ) -> Result<Arc<Reduced>, Aborted> {
        let Ok(mut round) = self.round.lock() else {
            return Err(Aborted);
        };
        if round.arrived == 0 {
            round.sum.clear();
            round.sum.resize(gradients.len(), 0.0);
            round.rows = 0;
            round.loss_sum = 0.0;
            round.correct = 0;
            // `done` keeps the previous round's result: a replica of that round may not have
            // woken yet, and this round cannot finish without it.
        }
        if rows > 0 {
            let weight = rows as f32;
            for (s, g) in round.sum.iter_mut().zip(gradients) {
                *s += weight * g;
            }
            round.rows += rows;
            round.loss_sum += f64::from(loss) * rows as f64;
            round.correct += correct;
        }
        round.arrived += 1;
        let generation = round.generation;
        if round.arrived == self.replicas {
            let total = round.rows.max(1) as f32;
            let reduced = Arc::new(Reduced {
                gradients: round.sum.iter().map(|s| s / total).collect(),
                rows: round.rows,
                loss: (round.loss_sum / round.rows.max(1) as f64) as f32,
                correct: round.correct,
            });
            round.done = Some(Arc::clone(&reduced));
            round.arrived = 0;
            round.generation += 1;
            self.ready.notify_all();
            return Ok(reduced);
        }
        loop {
            let (guard, _) = self
                .ready
                .wait_timeout(round, Duration::from_millis(20))
                .map_err(|_| Aborted)?;
            round = guard;
            if round.generation != generation {
                return round.done.clone().ok_or(Aborted);
            }
            if (self.should_stop)() {
                return Err(Aborted);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_replica_gets_the_row_weighted_average() {
        let reduce = Arc::new(AllReduce::new(3, Box::new(|| false)));
        let inputs = [
            (vec![1.0, 2.0], 1usize, 0.5f32),
            (vec![3.0, 4.0], 3, 1.0),
            (vec![9.0, 9.0], 0, 7.0),
        ];
        let handles: Vec<_> = inputs
            .into_iter()
            .map(|(g, rows, loss)| {
                let reduce = Arc::clone(&reduce);
                std::thread::spawn(move || reduce.reduce(&g, rows, loss, rows))
            })
            .collect();
        for h in handles {
            let r = h.join().unwrap().unwrap();
            assert_eq!(r.gradients, vec![2.5, 3.5]);
            assert_eq!(r.rows, 4);
            assert!((r.loss - 0.875).abs() < 1e-6);
        }
    }

    #[test]
    fn a_stop_ends_the_wait() {
        let reduce = AllReduce::new(2, Box::new(|| true));
        assert_eq!(reduce.reduce(&[1.0], 1, 0.0, 0).err(), Some(Aborted));
    }
}
