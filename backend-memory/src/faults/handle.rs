//! [`FaultHandle`]: how a test scripts faults and reads what was injected.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use operator_runtime_core::StoreError;

use super::log::FaultRecord;
use super::operation::OpFilter;
use super::rates::FaultRates;
use super::state::{CallRule, FaultState, WatchAction, WatchRule};

/// A cloneable handle on the faults of one [`super::FaultyStore`].
///
/// Scripted faults fire on the next matching calls, in the order they were added; the random
/// faults of [`FaultRates`] apply to calls no scripted fault claimed. Watch faults apply to
/// the next events delivered by any watch of the store, in delivery order.
#[derive(Clone, Debug)]
pub struct FaultHandle {
    pub(crate) state: Arc<Mutex<FaultState>>,
}

impl FaultHandle {
    /// The next `count` calls matching `ops` fail with `error` without reaching the store.
    pub fn fail_next(&self, ops: impl Into<OpFilter>, count: usize, error: StoreError) -> &Self {
        self.with(|s| push_rule(&mut s.fail_rules, ops.into(), count, error))
    }

    /// The next `count` writes matching `ops` reach the store and are then reported as
    /// [`StoreError::Timeout`]: the write happened, the caller cannot know it. Reads never match.
    pub fn timeout_after_next_writes(&self, ops: impl Into<OpFilter>, count: usize) -> &Self {
        self.with(|s| push_rule(&mut s.timeout_rules, ops.into(), count, ()))
    }

    /// The next `count` calls matching `ops` wait `delay` (tokio time) before reaching the store.
    pub fn delay_next(&self, ops: impl Into<OpFilter>, count: usize, delay: Duration) -> &Self {
        self.with(|s| push_rule(&mut s.delay_rules, ops.into(), count, delay))
    }

    /// The next `count` gets or lists matching `ops` are served from what a reader last saw
    /// through this store (the last get or list result), as a lagging cache would. A read with
    /// nothing seen before goes to the store.
    pub fn lag_next_reads(&self, ops: impl Into<OpFilter>, count: usize) -> &Self {
        self.with(|s| push_rule(&mut s.stale_rules, ops.into(), count, ()))
    }

    /// The next `count` watch events are lost.
    pub fn drop_next_watch_events(&self, count: usize) -> &Self {
        self.push_watch(count, WatchAction::Drop)
    }

    /// The next `count` watch events are delivered twice.
    pub fn duplicate_next_watch_events(&self, count: usize) -> &Self {
        self.push_watch(count, WatchAction::Duplicate)
    }

    /// The next `count` watch events are each held back `delay` (tokio time).
    pub fn delay_next_watch_events(&self, count: usize, delay: Duration) -> &Self {
        self.push_watch(count, WatchAction::Delay(delay))
    }

    /// The next `count` watch events are replaced by `Err(StoreError::Expired)`, which ends
    /// the watch that was about to deliver each of them (the client must relist).
    pub fn expire_next_watches(&self, count: usize) -> &Self {
        self.push_watch(count, WatchAction::Expire)
    }

    /// Turns seeded-random faults on at `rates` (None turns them off). The RNG keeps its
    /// position: the stream continues, it does not restart.
    pub fn set_rates(&self, rates: Option<FaultRates>) -> &Self {
        self.with(|s| s.rates = rates)
    }

    /// Removes every scripted fault and turns random faults off; the log is kept.
    pub fn clear(&self) -> &Self {
        self.with(|s| {
            s.rates = None;
            s.fail_rules.clear();
            s.timeout_rules.clear();
            s.delay_rules.clear();
            s.stale_rules.clear();
            s.watch_rules.clear();
        })
    }

    /// Every fault injected so far, in order.
    pub fn log(&self) -> Vec<FaultRecord> {
        FaultState::lock(&self.state).log.clone()
    }

    /// The faults injected after the first `start` ones.
    pub fn log_since(&self, start: usize) -> Vec<FaultRecord> {
        let state = FaultState::lock(&self.state);
        state.log.get(start..).map(<[FaultRecord]>::to_vec).unwrap_or_default()
    }

    /// Returns the log and empties it.
    pub fn take_log(&self) -> Vec<FaultRecord> {
        std::mem::take(&mut FaultState::lock(&self.state).log)
    }

    /// Number of faults injected so far.
    pub fn injected(&self) -> usize {
        FaultState::lock(&self.state).log.len()
    }

    /// True when no scripted fault is left to fire (random faults are not counted).
    pub fn scripted_exhausted(&self) -> bool {
        let s = FaultState::lock(&self.state);
        s.fail_rules.is_empty()
            && s.timeout_rules.is_empty()
            && s.delay_rules.is_empty()
            && s.stale_rules.is_empty()
            && s.watch_rules.is_empty()
    }

    fn push_watch(&self, count: usize, action: WatchAction) -> &Self {
        if count == 0 {
            return self;
        }
        self.with(|s| {
            s.watch_rules.push_back(WatchRule {
                remaining: count,
                action,
            });
        })
    }

    fn with(&self, f: impl FnOnce(&mut FaultState)) -> &Self {
        f(&mut FaultState::lock(&self.state));
        self
    }
}

/// Adds a rule; a rule for zero calls is no rule.
fn push_rule<A>(rules: &mut Vec<CallRule<A>>, filter: OpFilter, count: usize, action: A) {
    if count > 0 {
        rules.push(CallRule {
            filter,
            remaining: count,
            action,
        });
    }
}
