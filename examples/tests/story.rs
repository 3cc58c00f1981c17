//! The README's main command, as a test: the whole DataCluster story reaches every expected
//! state on the memory backend, in virtual time.

use std::sync::{Arc, Mutex};

use operator_runtime_examples::story;

#[tokio::test(start_paused = true)]
async fn the_whole_story_passes() {
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&lines);
    let log: story::Log = Arc::new(move |l: &str| sink.lock().unwrap().push(l.to_owned()));
    let summary = story::run_story(log).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.steps, 7);
    assert!(
        summary.objects.iter().all(|(_, n)| *n == 0),
        "everything cleaned up: {:?}",
        summary.objects
    );
    let log = lines.lock().unwrap().join("\n");
    for expected in [
        "DriftRepaired",
        "spec.replicas: 3 -> 5",
        "Deleted",
        "CleanedUp",
        "Ready=True(Ready)",
    ] {
        assert!(log.contains(expected), "the log shows {expected}");
    }
    // Reads are served by the cache. The only reads sent to the backend guard creates (the
    // parent still exists when this reconcile did not just write it; a child found to exist by
    // the apply meant to create it is read before it is taken over), so there are fewer of
    // them than writes.
    let gets = summary.requests.verb(operator_runtime_core::counting::Verb::Get);
    let applies = summary.requests.verb(operator_runtime_core::counting::Verb::Patch);
    assert!(
        gets <= applies,
        "{gets} reads for {applies} applies: reads not served by the cache"
    );
    // Reconciles after convergence skip every child write: the hash matched.
    assert!(summary.writes_skipped() > 0, "no skipped write recorded");
    // The operator is pure: the reconciles its own status writes trigger are skipped, and a
    // workload's status update reuses the desired set.
    for reused in ["desired", "everything"] {
        assert!(
            summary.metrics.reconciles_reused(reused) > 0,
            "no reconcile reused {reused}"
        );
    }
    let text = summary.metrics.encode_text().unwrap();
    let success = format!(
        r#"operator_runtime_reconciles_total{{controller="{}",result="success"}}"#,
        operator_runtime_examples::operator::data_cluster_type()
            .kind
            .to_lowercase()
    );
    assert!(text.contains(&success), "missing {success} in\n{text}");
}
