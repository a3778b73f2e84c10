//! Where marker labels go: beside their lines at the top of a plot, in a few rows, so two
//! changes made close together never print over each other. Pure layout, no egui.

/// A label to place: where its line is and how wide its text is, in screen points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelBox {
    pub line_x: f32,
    pub width: f32,
}

/// Space between a line and its label, and between two labels in one row.
const GAP: f32 = 3.0;

/// The row and left edge of each label, or `None` where no row has room (its line is still
/// drawn). Newer labels (later in `labels`) are placed first: the change just made always
/// shows. A label that would run past `right` is drawn to the left of its line instead.
pub fn place_labels(labels: &[LabelBox], right: f32, rows: usize) -> Vec<Option<(usize, f32)>> {
    let mut taken: Vec<Vec<(f32, f32)>> = vec![Vec::new(); rows];
    let mut placed = vec![None; labels.len()];
    for (index, label) in labels.iter().enumerate().rev() {
        let beside = label.line_x + GAP;
        let left = if beside + label.width > right {
            label.line_x - GAP - label.width
        } else {
            beside
        };
        let span = (left - GAP, left + label.width + GAP);
        let free = taken
            .iter()
            .position(|row| row.iter().all(|&(a, b)| span.1 <= a || span.0 >= b));
        if let Some(row) = free
            && let Some(spans) = taken.get_mut(row)
        {
            spans.push(span);
            if let Some(slot) = placed.get_mut(index) {
                *slot = Some((row, left));
            }
        }
    }
    placed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line_x: f32) -> LabelBox {
        LabelBox {
            line_x,
            width: 50.0,
        }
    }

    #[test]
    fn labels_far_apart_share_the_first_row() {
        let placed = place_labels(&[at(10.0), at(200.0)], 500.0, 3);
        assert_eq!(placed, vec![Some((0, 13.0)), Some((0, 203.0))]);
    }

    #[test]
    fn labels_close_together_go_to_the_next_row_newest_on_top() {
        let placed = place_labels(&[at(10.0), at(20.0), at(30.0)], 500.0, 3);
        assert_eq!(placed[2], Some((0, 33.0)), "the newest change on top");
        assert_eq!(placed[1], Some((1, 23.0)));
        assert_eq!(placed[0], Some((2, 13.0)));
    }

    #[test]
    fn a_label_without_room_is_left_out_instead_of_overprinting() {
        let placed = place_labels(&[at(10.0), at(12.0), at(14.0)], 500.0, 2);
        assert_eq!(placed[0], None);
        assert!(placed[1].is_some() && placed[2].is_some());
    }

    #[test]
    fn a_label_at_the_right_edge_goes_left_of_its_line() {
        let placed = place_labels(&[at(480.0)], 500.0, 3);
        assert_eq!(placed, vec![Some((0, 427.0))]);
    }
}
