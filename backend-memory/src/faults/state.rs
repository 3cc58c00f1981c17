//! The shared state behind a [`super::FaultHandle`]: scripted rules, the seeded RNG, the log,
//! and what a lagging reader last saw.
//!
//! Every decision is taken under one lock, in call order, so the same seed and the same call
//! sequence give the same faults.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use operator_runtime_core::store::{ListParams, WatchEvent};
use operator_runtime_core::{Object, ObjectList, ObjectRef, StoreError, TypeRef};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::log::{FaultRecord, FaultSource, InjectedFault};
use super::operation::{OpFilter, Operation};
use super::rates::{FaultRates, fires};

/// A scripted fault that fires on the next `remaining` matching calls.
#[derive(Debug)]
pub(crate) struct CallRule<A> {
    pub(crate) filter: OpFilter,
    pub(crate) remaining: usize,
    pub(crate) action: A,
}

/// What to do to one watch event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WatchAction {
    Drop,
    Duplicate,
    Delay(Duration),
    Expire,
}

/// A scripted watch fault for the next `remaining` events (of any watch).
#[derive(Debug)]
pub(crate) struct WatchRule {
    pub(crate) remaining: usize,
    pub(crate) action: WatchAction,
}

/// What the faulty store does around one call.
#[derive(Debug, Default)]
pub(crate) struct CallPlan {
    /// Sequence number of the call, for the log.
    pub(crate) step: u64,
    /// Hold the call back this long first.
    pub(crate) delay: Option<Duration>,
    /// Fail without reaching the store.
    pub(crate) fail: Option<StoreError>,
    /// Let the write through, then report a timeout.
    pub(crate) timeout_after_write: Option<FaultSource>,
    /// Serve the read from the lagging snapshot if there is one.
    pub(crate) stale: Option<FaultSource>,
}

/// Key of a list snapshot: the kind and the exact list parameters (`ListParams` is not `Hash`).
type ListKey = (TypeRef, String);

#[derive(Debug)]
pub(crate) struct FaultState {
    rng: ChaCha8Rng,
    pub(crate) rates: Option<FaultRates>,
    pub(crate) fail_rules: Vec<CallRule<StoreError>>,
    pub(crate) timeout_rules: Vec<CallRule<()>>,
    pub(crate) delay_rules: Vec<CallRule<Duration>>,
    pub(crate) stale_rules: Vec<CallRule<()>>,
    pub(crate) watch_rules: VecDeque<WatchRule>,
    pub(crate) log: Vec<FaultRecord>,
    step: u64,
    next_watch_id: u64,
    /// The last version of each object a reader saw (gets and lists), for stale reads.
    seen_objects: HashMap<ObjectRef, Arc<Object>>,
    /// The last page served for each (kind, params), for stale lists.
    seen_lists: HashMap<ListKey, ObjectList>,
}

/// Consumes one use of the first rule matching `op`, returning its action.
fn take_rule<A: Clone>(rules: &mut Vec<CallRule<A>>, op: Operation) -> Option<A> {
    let index = rules.iter().position(|r| r.filter.matches(op) && r.remaining > 0)?;
    let rule = &mut rules[index];
    rule.remaining -= 1;
    let action = rule.action.clone();
    if rule.remaining == 0 {
        rules.remove(index);
    }
    Some(action)
}

impl FaultState {
    pub(crate) fn new(seed: u64, rates: Option<FaultRates>) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            rates,
            fail_rules: Vec::new(),
            timeout_rules: Vec::new(),
            delay_rules: Vec::new(),
            stale_rules: Vec::new(),
            watch_rules: VecDeque::new(),
            log: Vec::new(),
            step: 0,
            next_watch_id: 0,
            seen_objects: HashMap::new(),
            seen_lists: HashMap::new(),
        }
    }

    pub(crate) fn lock(state: &Mutex<Self>) -> MutexGuard<'_, Self> {
        // A panic elsewhere must not disable fault injection for the rest of a test.
        state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `N` uniform draws in `[0, 1)` when random faults are on.
    fn draws<const N: usize>(&mut self) -> Option<[f64; N]> {
        self.rates.as_ref()?;
        Some(std::array::from_fn(|_| self.rng.random()))
    }

    fn next_step(&mut self) -> u64 {
        let step = self.step;
        self.step += 1;
        step
    }

    pub(crate) fn next_watch_id(&mut self) -> u64 {
        let id = self.next_watch_id;
        self.next_watch_id += 1;
        id
    }

    pub(crate) fn record(
        &mut self,
        step: u64,
        operation: Operation,
        target: String,
        source: FaultSource,
        fault: InjectedFault,
    ) {
        self.log.push(FaultRecord {
            step,
            operation,
            target,
            source,
            fault,
        });
    }

    /// Decides the faults for one call and logs those that act before the call.
    pub(crate) fn plan_call(&mut self, op: Operation, target: &dyn Fn() -> String) -> CallPlan {
        let step = self.next_step();
        let mut plan = CallPlan {
            step,
            ..CallPlan::default()
        };
        // Draw a fixed number of values per call whatever the rates, so one rate never shifts
        // the stream of another.
        let draws = self.draws::<4>();

        if let Some(delay) = take_rule(&mut self.delay_rules, op) {
            plan.delay = Some(delay);
            self.record(
                step,
                op,
                target(),
                FaultSource::Scripted,
                InjectedFault::Delay { delay },
            );
        }
        if let Some(error) = take_rule(&mut self.fail_rules, op) {
            self.record(
                step,
                op,
                target(),
                FaultSource::Scripted,
                InjectedFault::Error { error: error.clone() },
            );
            plan.fail = Some(error);
            return plan;
        }
        if op.is_write() && take_rule(&mut self.timeout_rules, op).is_some() {
            plan.timeout_after_write = Some(FaultSource::Scripted);
            return plan;
        }
        if matches!(op, Operation::Get | Operation::List) && take_rule(&mut self.stale_rules, op).is_some() {
            plan.stale = Some(FaultSource::Scripted);
            return plan;
        }

        let (Some(rates), Some([u_error, u_pick, u_timeout, u_stale])) = (self.rates.as_ref(), draws) else {
            return plan;
        };
        if fires(u_error, rates.error) {
            let error = pick(&rates.errors, u_pick);
            self.record(
                step,
                op,
                target(),
                FaultSource::Random,
                InjectedFault::Error { error: error.clone() },
            );
            plan.fail = Some(error);
        } else if op.is_write() && fires(u_timeout, rates.timeout_after_write) {
            plan.timeout_after_write = Some(FaultSource::Random);
        } else if matches!(op, Operation::Get | Operation::List) && fires(u_stale, rates.stale_read) {
            plan.stale = Some(FaultSource::Random);
        }
        plan
    }

    /// Decides what happens to one watch event, and logs it.
    pub(crate) fn plan_watch_event(&mut self, target: &dyn Fn() -> String, event: &WatchEvent) -> Option<WatchAction> {
        let step = self.next_step();
        let draws = self.draws::<5>();
        let scripted = self.watch_rules.front_mut().map(|rule| {
            rule.remaining -= 1;
            rule.action
        });
        if self.watch_rules.front().is_some_and(|r| r.remaining == 0) {
            self.watch_rules.pop_front();
        }
        let (action, source) = match (scripted, self.rates.as_ref(), draws) {
            (Some(action), _, _) => (action, FaultSource::Scripted),
            (None, Some(rates), Some([u_expire, u_drop, u_duplicate, u_delay, u_amount])) => {
                let action = if fires(u_expire, rates.watch_expire) {
                    WatchAction::Expire
                } else if fires(u_drop, rates.watch_drop) {
                    WatchAction::Drop
                } else if fires(u_duplicate, rates.watch_duplicate) {
                    WatchAction::Duplicate
                } else if fires(u_delay, rates.watch_delay) {
                    WatchAction::Delay(scale(rates.max_watch_delay, u_amount))
                } else {
                    return None;
                };
                (action, FaultSource::Random)
            }
            _ => return None,
        };
        let resource_version = event.resource_version().map(str::to_owned);
        let fault = match action {
            WatchAction::Drop => InjectedFault::WatchDropped { resource_version },
            WatchAction::Duplicate => InjectedFault::WatchDuplicated { resource_version },
            WatchAction::Delay(delay) => InjectedFault::WatchDelayed {
                resource_version,
                delay,
            },
            WatchAction::Expire => InjectedFault::WatchExpired { resource_version },
        };
        self.record(step, Operation::Watch, target(), source, fault);
        Some(action)
    }

    /// Remembers what a reader saw, for later stale reads.
    pub(crate) fn remember_object(&mut self, object: &Arc<Object>) {
        self.seen_objects.insert(object.object_ref(), Arc::clone(object));
    }

    /// Remembers a list page (and its items), for later stale reads.
    pub(crate) fn remember_list(&mut self, type_ref: &TypeRef, params: &ListParams, list: &ObjectList) {
        for item in &list.items {
            self.remember_object(item);
        }
        self.seen_lists.insert(list_key(type_ref, params), list.clone());
    }

    /// What a lagging reader last saw of `key`.
    pub(crate) fn stale_object(&self, key: &ObjectRef) -> Option<Arc<Object>> {
        self.seen_objects.get(key).cloned()
    }

    /// The last page served for this kind and these params.
    pub(crate) fn stale_list(&self, type_ref: &TypeRef, params: &ListParams) -> Option<ObjectList> {
        self.seen_lists.get(&list_key(type_ref, params)).cloned()
    }
}

fn list_key(type_ref: &TypeRef, params: &ListParams) -> ListKey {
    (type_ref.clone(), format!("{params:?}"))
}

/// Picks an error for a uniform draw `u`; 503 when the list is empty.
fn pick(errors: &[StoreError], u: f64) -> StoreError {
    if errors.is_empty() {
        return StoreError::Unavailable {
            message: "injected: service unavailable".into(),
            retry_after: None,
            source: None,
        };
    }
    // Truncation is the point: `u` in [0, 1) maps onto an index.
    let index = ((u * errors.len() as f64) as usize).min(errors.len() - 1);
    errors[index].clone()
}

/// A fraction `u` of `max`, whole milliseconds (stable across platforms).
fn scale(max: Duration, u: f64) -> Duration {
    let millis = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(((millis as f64) * u) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_fires_exactly_its_count_then_disappears() {
        let mut rules = vec![CallRule {
            filter: OpFilter::Only(Operation::Get),
            remaining: 2,
            action: 7,
        }];
        assert_eq!(take_rule(&mut rules, Operation::List), None);
        assert_eq!(take_rule(&mut rules, Operation::Get), Some(7));
        assert_eq!(take_rule(&mut rules, Operation::Get), Some(7));
        assert_eq!(take_rule(&mut rules, Operation::Get), None);
        assert!(rules.is_empty());
    }

    #[test]
    fn random_picks_stay_in_range() {
        let errors = vec![StoreError::conflict("a"), StoreError::conflict("b")];
        assert_eq!(pick(&errors, 0.0), errors[0]);
        assert_eq!(pick(&errors, 0.999_999), errors[1]);
        assert_eq!(pick(&[], 0.5).code(), 503);
        assert_eq!(scale(Duration::from_secs(2), 0.5), Duration::from_secs(1));
    }

    #[test]
    fn nan_and_out_of_range_rates_never_panic() {
        assert!(!fires(0.0, f64::NAN));
        assert!(fires(0.999, 7.0));
        assert!(!fires(0.0, -1.0));
    }
}
