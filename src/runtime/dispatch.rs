//! Which class the next user belongs to, exactly as Locust decides it: users of classes
//! with a fixed `count` first, then the weighted classes interleaved by Locust's
//! Kullback-Leibler generator (classes ordered by name). For weights 10/1/2, 13 users are
//! 10/1/2 and 100 users are 77/8/15.

use crate::ir::UserClass;

/// Yields class indices in spawn order.
pub struct Dispatcher {
    /// (class index, remaining fixed users)
    fixed: Vec<(usize, u32)>,
    fixed_cursor: usize,
    /// (divergence decrease, generated + weight, weight, name, class index)
    weighted: Vec<(f64, f64, f64, String, usize)>,
}

impl Dispatcher {
    pub fn new(classes: &[UserClass]) -> Dispatcher {
        Dispatcher::only(classes, &[])
    }

    /// A dispatcher over the classes whose `enabled` flag is set (all when `enabled` is
    /// empty): a web UI's class picker.
    pub fn only(classes: &[UserClass], enabled: &[bool]) -> Dispatcher {
        let mut order: Vec<usize> = (0..classes.len())
            .filter(|i| enabled.get(*i).copied().unwrap_or(true))
            .collect();
        order.sort_by(|a, b| classes[*a].name.cmp(&classes[*b].name));
        let fixed = order
            .iter()
            .filter_map(|i| classes[*i].fixed_count.map(|n| (*i, n)))
            .filter(|(_, n)| *n > 0)
            .collect();
        let weighted = order
            .iter()
            .filter(|i| classes[**i].fixed_count.is_none())
            .map(|i| {
                let w = f64::from(classes[*i].weight);
                (
                    w * (w / (w + 1.0)).log2(),
                    w + 1.0,
                    w,
                    classes[*i].name.clone(),
                    *i,
                )
            })
            .collect();
        Dispatcher {
            fixed,
            fixed_cursor: 0,
            weighted,
        }
    }

    /// The class of the next user to start, or `None` when every class has a fixed count
    /// and all of them are spawned.
    pub fn next_class(&mut self) -> Option<usize> {
        // Fixed-count classes take turns until each has its count.
        if !self.fixed.is_empty() {
            let slot = self.fixed_cursor % self.fixed.len();
            let (class, remaining) = &mut self.fixed[slot];
            let class = *class;
            *remaining -= 1;
            if *remaining == 0 {
                self.fixed.remove(slot);
            } else {
                self.fixed_cursor = slot + 1;
            }
            return Some(class);
        }
        let best = self
            .weighted
            .iter()
            .enumerate()
            .min_by(|(_, a), (_, b)| {
                a.0.total_cmp(&b.0)
                    .then(a.1.total_cmp(&b.1))
                    .then(a.2.total_cmp(&b.2))
                    .then(a.3.cmp(&b.3))
            })
            .map(|(i, _)| i)?;
        let entry = &mut self.weighted[best];
        let class = entry.4;
        let (x, w) = (entry.1, entry.2);
        entry.0 = w * (x / (x + 1.0)).log2();
        entry.1 = x + 1.0;
        Some(class)
    }
}

/// The class of every global user slot, in spawn order, with the slot's rank among the users
/// of its class (which segment owns it, see `schedule::Segment::owns_user`). Slot `g` is the
/// `g`-th user a single process would start; the sequence is extended as the run grows.
pub struct ClassSequence {
    dispatcher: Dispatcher,
    slots: Vec<(usize, u64)>,
    per_class: Vec<u64>,
    exhausted: bool,
}

impl ClassSequence {
    pub fn new(classes: &[UserClass], enabled: &[bool]) -> ClassSequence {
        ClassSequence {
            dispatcher: Dispatcher::only(classes, enabled),
            slots: Vec::new(),
            per_class: vec![0; classes.len()],
            exhausted: false,
        }
    }

    /// (class, rank within the class) of slot `g`; `None` past the last slot when every
    /// class has a fixed count.
    pub fn get(&mut self, g: usize) -> Option<(usize, u64)> {
        while self.slots.len() <= g && !self.exhausted {
            match self.dispatcher.next_class() {
                Some(class) => {
                    let k = self.per_class[class];
                    self.per_class[class] += 1;
                    self.slots.push((class, k));
                }
                None => self.exhausted = true,
            }
        }
        self.slots.get(g).copied()
    }
}

/// How many users of each class `n` users make (for `inspect` and tests).
pub fn counts(classes: &[UserClass], n: u32) -> Vec<u32> {
    let mut d = Dispatcher::new(classes);
    let mut counts = vec![0; classes.len()];
    for _ in 0..n {
        match d.next_class() {
            Some(c) => counts[c] += 1,
            None => break,
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::WaitTime;
    use std::time::Duration;

    fn class(name: &str, weight: u32, fixed: Option<u32>) -> UserClass {
        UserClass {
            name: name.into(),
            weight,
            fixed_count: fixed,
            tags: vec![],
            wait: WaitTime::Constant(Duration::ZERO),
            host: None,
            headers: vec![],
            lets: vec![],
            feeds: vec![],
            on_start: vec![],
            on_stop: vec![],
            tasks: vec![],
            span: Default::default(),
        }
    }

    #[test]
    fn locust_vectors() {
        let classes = vec![
            class("KibrayUser", 10, None),
            class("AdminUser", 1, None),
            class("APIOnlyUser", 2, None),
        ];
        let mut d = Dispatcher::new(&classes);
        let seq: String = (0..13)
            .map(|_| ['K', 'A', 'P'][d.next_class().unwrap()])
            .collect();
        assert_eq!(seq, "KKPKKAKKKPKKK");
        assert_eq!(counts(&classes, 13), vec![10, 1, 2]);
        assert_eq!(counts(&classes, 100), vec![77, 8, 15]);
        let kibray_as_shipped = vec![
            class("KibrayUser", 1, None),
            class("AdminUser", 1, None),
            class("APIOnlyUser", 2, None),
        ];
        assert_eq!(counts(&kibray_as_shipped, 100), vec![25, 25, 50]);
        let ab = vec![class("A", 5, None), class("B", 1, None)];
        let mut d = Dispatcher::new(&ab);
        let seq: String = (0..12)
            .map(|_| ['A', 'B'][d.next_class().unwrap()])
            .collect();
        // Locust's docstring says AAABAAAAABAA; its code (which this follows, and which gives
        // the KKPKKAKKKPKKK vector above) yields this.
        assert_eq!(seq, "AABAAAAABAAA");
    }

    #[test]
    fn the_class_sequence_numbers_users_within_their_class() {
        let classes = vec![
            class("KibrayUser", 10, None),
            class("AdminUser", 1, None),
            class("APIOnlyUser", 2, None),
        ];
        let mut seq = ClassSequence::new(&classes, &[]);
        let first: Vec<(usize, u64)> = (0..6).map(|g| seq.get(g).unwrap()).collect();
        assert_eq!(first, [(0, 0), (0, 1), (2, 0), (0, 2), (0, 3), (1, 0)]);
        // Only the API users picked: every slot is theirs.
        let mut api = ClassSequence::new(&classes, &[false, false, true]);
        assert_eq!(api.get(3), Some((2, 3)));
        let fixed = vec![class("Admin", 1, Some(2))];
        let mut seq = ClassSequence::new(&fixed, &[]);
        assert_eq!(seq.get(1), Some((0, 1)));
        assert_eq!(seq.get(2), None);
    }

    /// Property: for any weights and any number of segments, the segments' users together
    /// are exactly one process's users, class by class, and each segment gets its share of
    /// every class (within one per class).
    #[test]
    fn segments_split_the_users_of_every_class_exactly() {
        let mut x: u64 = 0x1234_5678_9ABC_DEF1;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for case in 0..60 {
            let n_classes = 1 + next(4) as usize;
            let classes: Vec<UserClass> = (0..n_classes)
                .map(|c| {
                    let fixed = (case % 5 == 0 && c == 0).then(|| 1 + next(3) as u32);
                    class(&format!("C{c}"), 1 + next(12) as u32, fixed)
                })
                .collect();
            let users = [1, 7, 13, 100, 257][case % 5];
            let segments = 1 + next(9) as u32;
            let whole = counts(&classes, users);
            let mut union = vec![0u32; n_classes];
            for i in 0..segments {
                let seg = crate::schedule::Segment::new(i, segments).unwrap();
                let mut seq = ClassSequence::new(&classes, &[]);
                let mut mine = vec![0u32; n_classes];
                for g in 0..users as usize {
                    let Some((c, k)) = seq.get(g) else { break };
                    if seg.owns_user(c, k) {
                        mine[c] += 1;
                    }
                }
                for c in 0..n_classes {
                    union[c] += mine[c];
                    let share = f64::from(whole[c]) / f64::from(segments);
                    assert!(
                        (f64::from(mine[c]) - share).abs() <= 1.0,
                        "case {case}: segment {i}/{segments} has {} of class {c}, share {share}",
                        mine[c]
                    );
                }
            }
            assert_eq!(
                union, whole,
                "case {case}: {segments} segments of {users} users"
            );
        }
    }

    #[test]
    fn fixed_counts_come_first() {
        let classes = vec![class("Web", 1, None), class("Admin", 1, Some(2))];
        assert_eq!(counts(&classes, 5), vec![3, 2]);
        assert_eq!(counts(&classes, 1), vec![0, 1]);
        let only_fixed = vec![class("Admin", 1, Some(2))];
        assert_eq!(counts(&only_fixed, 5), vec![2]);
    }
}
