//! Prometheus metrics of the runner, the reconcile driver and the store, with
//! [`prometheus_client`].
//!
//! One [`Metrics`] value is cloned into every component (clones share the same series).
//! Register it into the application's registry with [`Metrics::register`], or encode it alone
//! with [`Metrics::encode_text`]. Series, all prefixed `operator_runtime_`:
//!
//! | series | type | labels |
//! |---|---|---|
//! | `reconciles_total` | counter | `controller`, `result` (`success`, `error`, `panic`) |
//! | `reconcile_duration_seconds` | histogram | `controller` |
//! | `queue_depth` | gauge | `controller` |
//! | `store_requests_total` | counter | `verb`, `kind` |
//! | `writes_skipped_total` | counter | `kind` |
//! | `reconciles_reused_total` | counter | `reused` (`desired`, `everything`) |
//!
//! Durations are measured on tokio's clock, so they are virtual under paused time.

mod store;

use std::fmt::Write as _;
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

pub use store::InstrumentedStore;

/// How a reconcile ended.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum ReconcileResult {
    /// The reconcile returned `Ok`.
    Success,
    /// The reconcile returned `Err`.
    Error,
    /// The reconcile panicked.
    Panic,
}

impl ReconcileResult {
    /// The label value (`success`, `error`, `panic`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Error => "error",
            Self::Panic => "panic",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ControllerLabels {
    controller: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    controller: String,
    result: ReconcileResult,
}

impl EncodeLabelValue for ReconcileResult {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    verb: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReusedLabels {
    reused: &'static str,
}

type HistogramFamily = Family<ControllerLabels, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    // 5 ms .. ~41 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

/// The metrics of one operator process. Cheap to clone; clones share the series.
#[derive(Clone, Debug)]
pub struct Metrics {
    reconciles: Family<ResultLabels, Counter>,
    reconcile_duration: HistogramFamily,
    queue_depth: Family<ControllerLabels, Gauge>,
    store_requests: Family<RequestLabels, Counter>,
    writes_skipped: Family<KindLabels, Counter>,
    reconciles_reused: Family<ReusedLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            reconciles: Family::default(),
            reconcile_duration: Family::new_with_constructor(duration_histogram),
            queue_depth: Family::default(),
            store_requests: Family::default(),
            writes_skipped: Family::default(),
            reconciles_reused: Family::default(),
        }
    }
}

impl Metrics {
    /// Fresh metrics with no series.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers every series under the `operator_runtime` prefix.
    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("operator_runtime");
        registry.register(
            "reconciles",
            "Reconciles by controller and result",
            self.reconciles.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Duration of reconciles",
            self.reconcile_duration.clone(),
        );
        registry.register(
            "queue_depth",
            "Keys waiting in the work queue",
            self.queue_depth.clone(),
        );
        registry.register(
            "store_requests",
            "Requests to the backend by verb and kind",
            self.store_requests.clone(),
        );
        registry.register(
            "writes_skipped",
            "Writes skipped because the desired hash matched the live object",
            self.writes_skipped.clone(),
        );
        registry.register(
            "reconciles_reused",
            "Reconciles of a pure operator that reused the desired set or the whole last reconcile",
            self.reconciles_reused.clone(),
        );
    }

    /// These metrics alone in the Prometheus text format.
    ///
    /// # Errors
    /// Only if formatting fails (it does not for a `String`).
    pub fn encode_text(&self) -> Result<String, std::fmt::Error> {
        let mut registry = Registry::default();
        self.register(&mut registry);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry)?;
        Ok(out)
    }

    /// Records one finished reconcile.
    pub fn record_reconcile(&self, controller: &str, result: ReconcileResult, duration: Duration) {
        self.reconciles
            .get_or_create(&ResultLabels {
                controller: controller.to_owned(),
                result,
            })
            .inc();
        self.reconcile_duration
            .get_or_create(&ControllerLabels {
                controller: controller.to_owned(),
            })
            .observe(duration.as_secs_f64());
    }

    /// Sets the queue depth of a controller.
    pub fn set_queue_depth(&self, controller: &str, depth: usize) {
        self.queue_depth
            .get_or_create(&ControllerLabels {
                controller: controller.to_owned(),
            })
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    /// Counts one backend request.
    pub fn record_store_request(&self, verb: &str, kind: &str) {
        self.store_requests
            .get_or_create(&RequestLabels {
                verb: verb.to_owned(),
                kind: kind.to_owned(),
            })
            .inc();
    }

    /// Counts one write the reconcile driver skipped because the desired hash matched.
    pub fn record_write_skipped(&self, kind: &str) {
        self.writes_skipped
            .get_or_create(&KindLabels { kind: kind.to_owned() })
            .inc();
    }

    /// Counts one reconcile that reused its parent's last one: `reused` is `desired` (the
    /// desired set) or `everything` (the reconcile was skipped).
    pub fn record_reconcile_reused(&self, reused: &'static str) {
        self.reconciles_reused.get_or_create(&ReusedLabels { reused }).inc();
    }

    /// Reconciles that reused their parent's last one so far (`desired` or `everything`).
    pub fn reconciles_reused(&self, reused: &'static str) -> u64 {
        self.reconciles_reused.get_or_create(&ReusedLabels { reused }).get()
    }

    /// Reconciles counted so far for a controller and result.
    pub fn reconciles(&self, controller: &str, result: ReconcileResult) -> u64 {
        self.reconciles
            .get_or_create(&ResultLabels {
                controller: controller.to_owned(),
                result,
            })
            .get()
    }

    /// Backend requests counted so far for a verb and kind.
    pub fn store_requests(&self, verb: &str, kind: &str) -> u64 {
        self.store_requests
            .get_or_create(&RequestLabels {
                verb: verb.to_owned(),
                kind: kind.to_owned(),
            })
            .get()
    }

    /// Writes skipped so far for a kind.
    pub fn writes_skipped(&self, kind: &str) -> u64 {
        self.writes_skipped
            .get_or_create(&KindLabels { kind: kind.to_owned() })
            .get()
    }
}
