//! The controller's work queue: de-duplicated keys, per-key exclusivity, delayed requeues.
//!
//! A key is in at most one of three places: *waiting* (will run as soon as a worker is free),
//! *scheduled* (will become waiting at an instant), or neither. Independently it may be
//! *running*. The rules, as in client-go's workqueue and kube-runtime's scheduler:
//! - adding a key that is already waiting does nothing (de-duplication; the first reason wins);
//! - adding a key that is running marks it to run again once the current run finishes, so two
//!   runs of one key never overlap and no change is missed;
//! - an immediate add supersedes a scheduled one, and of two schedules the earlier wins.
//!
//! The queue is a plain synchronous structure with instants passed in: the runner owns it
//! and drives it from one task, which keeps the order of work deterministic.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::Hash;

use tokio::time::Instant;

/// A de-duplicating work queue of keys `K`, each carrying the reason `R` it was queued for.
#[derive(Debug)]
pub struct WorkQueue<K, R> {
    /// Keys ready to run, in arrival order; never contains a running key.
    ready: VecDeque<K>,
    /// Reason of every waiting key (those in `ready` and those in `rerun`).
    waiting: HashMap<K, R>,
    /// Running keys that were added again while running.
    rerun: HashSet<K>,
    running: HashSet<K>,
    /// Scheduled keys by due instant; the u64 keeps insertion order among equal instants.
    timers: BTreeMap<(Instant, u64), K>,
    scheduled: HashMap<K, ((Instant, u64), R)>,
    next_seq: u64,
}

impl<K, R> Default for WorkQueue<K, R> {
    fn default() -> Self {
        Self {
            ready: VecDeque::new(),
            waiting: HashMap::new(),
            rerun: HashSet::new(),
            running: HashSet::new(),
            timers: BTreeMap::new(),
            scheduled: HashMap::new(),
            next_seq: 0,
        }
    }
}

impl<K: Eq + Hash + Clone, R> WorkQueue<K, R> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues `key` to run as soon as possible (after its current run, if running).
    pub fn add(&mut self, key: K, reason: R) {
        if let Some((slot, _)) = self.scheduled.remove(&key) {
            self.timers.remove(&slot);
        }
        if self.waiting.contains_key(&key) {
            return;
        }
        if self.running.contains(&key) {
            self.rerun.insert(key.clone());
        } else {
            self.ready.push_back(key.clone());
        }
        self.waiting.insert(key, reason);
    }

    /// Queues `key` to run at `at`, unless it already waits or is scheduled earlier.
    pub fn add_at(&mut self, key: K, reason: R, at: Instant) {
        if self.waiting.contains_key(&key) {
            return;
        }
        if self.scheduled.get(&key).is_some_and(|((due, _), _)| *due <= at) {
            return;
        }
        if let Some((slot, _)) = self.scheduled.remove(&key) {
            self.timers.remove(&slot);
        }
        let slot = (at, self.next_seq);
        self.next_seq += 1;
        self.timers.insert(slot, key.clone());
        self.scheduled.insert(key, (slot, reason));
    }

    /// Moves every key scheduled at or before `now` to waiting.
    pub fn promote_due(&mut self, now: Instant) {
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            if let Some((_, reason)) = self.scheduled.remove(&key) {
                self.add(key, reason);
            }
        }
    }

    /// The earliest scheduled instant, if any.
    pub fn next_due(&self) -> Option<Instant> {
        self.timers.first_key_value().map(|((at, _), _)| *at)
    }

    /// Takes the next waiting key and marks it running.
    pub fn pop(&mut self) -> Option<(K, R)> {
        let key = self.ready.pop_front()?;
        let reason = self.waiting.remove(&key)?;
        self.running.insert(key.clone());
        Some((key, reason))
    }

    /// Marks a run of `key` finished; a key added during the run becomes ready again.
    pub fn finish(&mut self, key: &K) {
        self.running.remove(key);
        if self.rerun.remove(key) {
            self.ready.push_back(key.clone());
        }
    }

    /// Keys waiting to run (queue depth), including running keys marked to run again.
    pub fn waiting_len(&self) -> usize {
        self.waiting.len()
    }

    /// Keys scheduled for later.
    pub fn scheduled_len(&self) -> usize {
        self.scheduled.len()
    }

    /// Keys running now.
    pub fn running_len(&self) -> usize {
        self.running.len()
    }

    /// Whether `key` is running.
    pub fn is_running(&self, key: &K) -> bool {
        self.running.contains(key)
    }

    /// Drops every waiting and scheduled key (running keys stay running).
    pub fn clear_pending(&mut self) {
        self.ready.clear();
        self.waiting.clear();
        self.rerun.clear();
        self.timers.clear();
        self.scheduled.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn deduplicates_waiting_keys_and_keeps_the_first_reason() {
        let mut q = WorkQueue::new();
        q.add("a", 1);
        q.add("b", 2);
        q.add("a", 3);
        assert_eq!(q.waiting_len(), 2);
        assert_eq!(q.pop(), Some(("a", 1)));
        assert_eq!(q.pop(), Some(("b", 2)));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn a_running_key_is_not_handed_out_twice_but_runs_again_after() {
        let mut q = WorkQueue::new();
        q.add("a", 1);
        assert_eq!(q.pop(), Some(("a", 1)));
        q.add("a", 2);
        q.add("a", 3);
        assert_eq!(q.pop(), None, "a is running");
        assert_eq!(q.waiting_len(), 1);
        q.finish(&"a");
        assert_eq!(q.pop(), Some(("a", 2)));
        q.finish(&"a");
        assert_eq!(q.pop(), None, "exactly one rerun");
    }

    #[test]
    fn schedules_keep_the_earliest_and_yield_to_immediate_adds() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut q = WorkQueue::new();
        q.add_at("a", "late", t0 + s(10));
        q.add_at("a", "early", t0 + s(5));
        q.add_at("a", "later", t0 + s(20));
        assert_eq!(q.next_due(), Some(t0 + s(5)));
        q.promote_due(t0 + s(4));
        assert_eq!(q.pop(), None);
        q.promote_due(t0 + s(5));
        assert_eq!(q.pop(), Some(("a", "early")));
        assert_eq!(q.next_due(), None);

        q.add_at("b", "timer", t0 + s(5));
        q.add("b", "now");
        assert_eq!(q.scheduled_len(), 0, "the immediate add supersedes the schedule");
        assert_eq!(q.pop(), Some(("b", "now")));
    }
}
