//! Tracing spans of the runner. In a test binary of its own: tracing caches callsite interest
//! process-wide, so a span first hit by a parallel test without a subscriber could be missed.

mod controller_support;

use controller_support::*;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Name and fields of one span.
type SpanFields = (String, BTreeMap<String, String>);

/// A tracing subscriber that keeps every span's name and fields (later `record`s included).
#[derive(Clone, Default)]
struct SpanRecorder {
    spans: Arc<Mutex<Vec<SpanFields>>>,
}

struct FieldVisitor<'a>(&'a mut BTreeMap<String, String>);

impl tracing::field::Visit for FieldVisitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl tracing::Subscriber for SpanRecorder {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut fields = BTreeMap::new();
        span.record(&mut FieldVisitor(&mut fields));
        let mut spans = self.spans.lock().unwrap();
        spans.push((span.metadata().name().to_owned(), fields));
        tracing::span::Id::from_u64(spans.len() as u64)
    }
    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let index = usize::try_from(span.into_u64()).unwrap() - 1;
        values.record(&mut FieldVisitor(&mut self.spans.lock().unwrap()[index].1));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test(start_paused = true)]
async fn each_reconcile_gets_a_span_with_key_reason_and_result() {
    let recorder = SpanRecorder::default();
    let _default = tracing::subscriber::set_default(recorder.clone());
    let source = TestSource::new();
    source.apply(parent("a"));
    source.apply(parent("b"));
    source.mark_synced();
    let probe = Probe::new(secs(1));
    probe.script("b", [Err(())]);
    let running = start(
        Controller::new(Arc::clone(&source), parent_type()).with_config(config()),
        &probe,
    );
    sleep(secs(10)).await;
    running.shutdown().await;

    let spans = recorder.spans.lock().unwrap().clone();
    let reconciles: Vec<(String, String, String)> = spans
        .into_iter()
        .filter(|(name, _)| name == "reconcile")
        .map(|(_, f)| (f["object"].clone(), f["reason"].clone(), f["result"].clone()))
        .collect();
    let expected = [
        ("DataCluster ns/a", "initial", "success"),
        ("DataCluster ns/b", "initial", "error"),
        ("DataCluster ns/b", "error backoff", "success"),
    ];
    assert_eq!(
        reconciles,
        expected.map(|(o, r, s)| (o.to_owned(), r.to_owned(), s.to_owned()))
    );
}
