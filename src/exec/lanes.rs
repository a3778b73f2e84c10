//! Watermarks of an operator's input lanes: the operator's watermark is the minimum over the
//! lanes that have not ended (Flink's rule for operators with several inputs), and it only moves
//! forward. Pure bookkeeping: no channels and no operator calls here.

/// Watermarks of each input lane; the operator sees their minimum when it advances.
pub struct Lanes {
    marks: Vec<i64>,
    ended: Vec<bool>,
    /// Input port each lane feeds.
    pub ports: Vec<usize>,
    current: i64,
}

impl Lanes {
    pub fn new(ports: Vec<usize>) -> Self {
        Self {
            marks: vec![i64::MIN; ports.len()],
            ended: vec![false; ports.len()],
            ports,
            current: i64::MIN,
        }
    }

    /// The minimum over the lanes still open; `i64::MAX` when every lane has ended.
    fn combined(&self) -> i64 {
        self.marks
            .iter()
            .zip(&self.ended)
            .filter(|(_, ended)| !**ended)
            .map(|(m, _)| *m)
            .min()
            .unwrap_or(i64::MAX)
    }

    /// Records a lane's watermark; returns the combined one if it advanced.
    pub fn advance(&mut self, lane: usize, watermark: i64) -> Option<i64> {
        if self.marks.len() == 1 {
            // One input: its watermark is the combined one.
            if watermark > self.current {
                self.current = watermark;
                return Some(watermark);
            }
            return None;
        }
        if let Some(mark) = self.marks.get_mut(lane) {
            *mark = (*mark).max(watermark);
        }
        self.take_if_advanced()
    }

    fn take_if_advanced(&mut self) -> Option<i64> {
        let combined = self.combined();
        (combined > self.current).then(|| {
            self.current = combined;
            combined
        })
    }

    /// Marks a lane ended; returns (advanced watermark, all lanes ended).
    pub fn end(&mut self, lane: usize) -> (Option<i64>, bool) {
        if let Some(e) = self.ended.get_mut(lane) {
            *e = true;
        }
        let all = self.ended.iter().all(|e| *e);
        (if all { None } else { self.take_if_advanced() }, all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_lane_passes_its_watermark_on_only_when_it_advances() {
        let mut lanes = Lanes::new(vec![0]);
        assert_eq!(lanes.advance(0, 100), Some(100));
        assert_eq!(lanes.advance(0, 100), None, "the same watermark again");
        assert_eq!(lanes.advance(0, 50), None, "a watermark never goes back");
        assert_eq!(lanes.advance(0, 101), Some(101));
    }

    #[test]
    fn several_lanes_advance_to_their_minimum_once_every_lane_has_one() {
        let mut lanes = Lanes::new(vec![0, 0, 1]);
        assert_eq!(lanes.advance(0, 500), None, "lanes 1 and 2 have none yet");
        assert_eq!(lanes.advance(2, 300), None, "lane 1 has none yet");
        assert_eq!(
            lanes.advance(1, 400),
            Some(300),
            "the minimum of 500, 400, 300"
        );
        assert_eq!(
            lanes.advance(0, 900),
            None,
            "the slowest lane (300) did not move"
        );
        assert_eq!(lanes.advance(2, 1000), Some(400));
        assert_eq!(lanes.advance(1, 2000), Some(900));
    }

    #[test]
    fn a_lane_going_back_does_not_lower_the_minimum() {
        let mut lanes = Lanes::new(vec![0, 0]);
        lanes.advance(0, 100);
        assert_eq!(lanes.advance(1, 200), Some(100));
        assert_eq!(lanes.advance(0, 50), None);
        assert_eq!(lanes.advance(0, 150), Some(150));
    }

    #[test]
    fn an_ended_lane_no_longer_holds_the_minimum_back() {
        let mut lanes = Lanes::new(vec![0, 0]);
        lanes.advance(0, 100);
        assert_eq!(lanes.advance(1, 700), Some(100));
        assert_eq!(lanes.end(0), (Some(700), false), "lane 1 alone decides now");
        assert_eq!(lanes.advance(1, 800), Some(800));
    }

    #[test]
    fn a_lane_that_ends_before_any_watermark_lets_the_others_decide() {
        let mut lanes = Lanes::new(vec![0, 0, 0]);
        assert_eq!(lanes.end(1), (None, false), "lanes 0 and 2 have none yet");
        lanes.advance(0, 40);
        assert_eq!(lanes.advance(2, 60), Some(40));
    }

    #[test]
    fn when_every_lane_has_ended_no_watermark_is_emitted_and_the_end_is_reported() {
        let mut lanes = Lanes::new(vec![0, 1]);
        lanes.advance(0, 10);
        lanes.advance(1, 20);
        assert_eq!(lanes.end(1), (None, false), "lane 0 still holds 10");
        assert_eq!(lanes.end(0), (None, true));
        let mut single = Lanes::new(vec![0]);
        assert_eq!(single.end(0), (None, true));
    }

    #[test]
    fn lanes_remember_the_input_port_each_one_feeds() {
        let lanes = Lanes::new(vec![0, 1, 1]);
        assert_eq!(lanes.ports, vec![0, 1, 1]);
    }
}
