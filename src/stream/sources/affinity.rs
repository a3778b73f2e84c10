//! The hidden taste model behind the clickstream's item ids: items have a popularity (Zipf)
//! and a genre, each user a favourite genre; a click picks an item of the user's genre with
//! probability `affinity`, else any item by popularity. Pure sampling, seeded by the caller.

use super::rng::SeededRng;

/// Items, their genres and popularity, and each user's favourite genre.
#[derive(Clone, Debug)]
pub struct TasteModel {
    affinity: f64,
    /// Cumulative popularity of all items (item i has weight 1/(i+1)).
    all: Vec<f64>,
    /// Per genre: its items and their cumulative popularity.
    genres: Vec<(Vec<u64>, Vec<f64>)>,
    /// Favourite genre per user.
    favourites: Vec<usize>,
}

impl TasteModel {
    /// `items` items in `genres` genres (item i belongs to genre i mod genres, so every genre
    /// has popular and rare items), `users` users with a favourite genre drawn from `rng`.
    /// `affinity` in [0, 1] is the share of a user's clicks that follow their taste.
    pub fn new(users: u64, items: u64, genres: u64, affinity: f64, rng: &mut SeededRng) -> Self {
        let items = items.max(1);
        let genres = genres.clamp(1, items);
        let weight = |i: u64| 1.0 / (i + 1) as f64;
        let all = cumulative((0..items).map(weight));
        let genres: Vec<(Vec<u64>, Vec<f64>)> = (0..genres)
            .map(|g| {
                let members: Vec<u64> = (g..items).step_by(genres as usize).collect();
                let cumulative = cumulative(members.iter().map(|&i| weight(i)));
                (members, cumulative)
            })
            .collect();
        let favourites = (0..users.max(1))
            .map(|_| rng.below(genres.len() as u64) as usize)
            .collect();
        TasteModel {
            affinity: affinity.clamp(0.0, 1.0),
            all,
            genres,
            favourites,
        }
    }

    /// The genre of an item.
    pub fn genre_of(&self, item: u64) -> usize {
        (item % self.genres.len() as u64) as usize
    }

    /// A user's favourite genre.
    pub fn favourite_of(&self, user: u64) -> usize {
        self.favourites
            .get(user as usize)
            .copied()
            .unwrap_or_default()
    }

    /// The item `user` clicks next.
    pub fn next_item(&self, user: u64, rng: &mut SeededRng) -> u64 {
        let follows_taste = rng.unit() < self.affinity;
        let genre = self.genres.get(self.favourite_of(user));
        match genre {
            Some((members, cumulative)) if follows_taste => {
                let at = pick(cumulative, rng);
                members.get(at).copied().unwrap_or_default()
            }
            _ => pick(&self.all, rng) as u64,
        }
    }
}

fn cumulative(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut total = 0.0;
    weights
        .map(|w| {
            total += w;
            total
        })
        .collect()
}

/// An index drawn with probability proportional to its weight, from cumulative weights.
fn pick(cumulative: &[f64], rng: &mut SeededRng) -> usize {
    let total = cumulative.last().copied().unwrap_or(0.0);
    let target = rng.unit() * total;
    cumulative
        .partition_point(|&c| c <= target)
        .min(cumulative.len().saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clicks_follow_the_users_genre_at_the_affinity_rate() {
        let mut rng = SeededRng::new(1);
        let model = TasteModel::new(50, 200, 10, 0.8, &mut rng);
        let clicks = 20_000;
        let own_genre = (0..clicks)
            .filter(|i| {
                let user = i % 50;
                let item = model.next_item(user, &mut rng);
                model.genre_of(item) == model.favourite_of(user)
            })
            .count();
        // 80 % by taste plus a tenth of the other 20 % by chance: about 82 %.
        let share = own_genre as f64 / clicks as f64;
        assert!((0.80..0.85).contains(&share), "share {share}");
    }

    #[test]
    fn popular_items_are_clicked_more() {
        let mut rng = SeededRng::new(2);
        let model = TasteModel::new(10, 100, 5, 0.0, &mut rng);
        let mut counts = [0u32; 100];
        for _ in 0..50_000 {
            counts[model.next_item(0, &mut rng) as usize] += 1;
        }
        // Zipf: item 0 about twice item 1 and ten times item 9.
        assert!(counts[0] > counts[1] && counts[1] > counts[9] && counts[9] > counts[99]);
        let ratio = f64::from(counts[0]) / f64::from(counts[9]);
        assert!((8.0..12.0).contains(&ratio), "ratio {ratio}");
    }
}
