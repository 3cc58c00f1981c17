//! The controller runner on a scriptable source, in virtual time (tokio `start_paused`).

mod controller_support;

use controller_support::*;

#[tokio::test(start_paused = true)]
async fn nothing_runs_before_the_cache_is_synced() {
    let source = TestSource::new();
    source.apply(parent("a"));
    let probe = Probe::new(secs(1));
    let running = start(
        Controller::new(Arc::clone(&source), parent_type()).with_config(config()),
        &probe,
    );
    sleep(secs(120)).await;
    source.apply(parent("b"));
    sleep(secs(120)).await;
    assert_eq!(probe.runs(), 0, "no reconcile before sync, even with changes arriving");
    source.mark_synced();
    sleep(secs(10)).await;
    assert_eq!(probe.starts_of("a"), [240]);
    assert_eq!(
        probe.starts_of("b"),
        [240],
        "the change seen before sync is not run twice"
    );
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn changes_while_running_are_deduplicated_and_run_once_after() {
    let source = TestSource::new();
    source.apply(parent("a"));
    source.mark_synced();
    let probe = Probe::new(secs(10));
    let running = start(
        Controller::new(Arc::clone(&source), parent_type()).with_config(config()),
        &probe,
    );
    sleep(secs(1)).await;
    for _ in 0..5 {
        source.apply(parent("a"));
        sleep(secs(1)).await;
    }
    sleep(secs(60)).await;
    assert_eq!(
        probe.starts_of("a"),
        [0, 10],
        "five changes during the run: exactly one rerun, after it"
    );
    assert!(probe.overlaps.lock().unwrap().is_empty());
    let summary = running.shutdown().await;
    assert_eq!(summary.succeeded, 2);
}

#[tokio::test(start_paused = true)]
async fn waiting_keys_are_deduplicated() {
    let source = TestSource::new();
    source.apply(parent("blocker"));
    source.apply(parent("z"));
    source.mark_synced();
    let probe = Probe::new(secs(10));
    let cfg = config().with_concurrency(1).unwrap();
    let running = start(
        Controller::new(Arc::clone(&source), parent_type()).with_config(cfg),
        &probe,
    );
    sleep(secs(1)).await;
    // "blocker" runs; "z" is already waiting from the initial sync: more changes add nothing.
    for _ in 0..5 {
        source.apply(parent("z"));
    }
    sleep(secs(60)).await;
    assert_eq!(probe.starts_of("blocker"), [0]);
    assert_eq!(probe.starts_of("z"), [10]);
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn concurrency_is_bounded_and_keys_never_overlap() {
    let source = TestSource::new();
    for i in 0..10 {
        source.apply(parent(&format!("p{i}")));
    }
    source.mark_synced();
    let probe = Probe::new(secs(10));
    let cfg = config().with_concurrency(3).unwrap();
    let running = start(
        Controller::new(Arc::clone(&source), parent_type()).with_config(cfg),
        &probe,
    );
    // Keep poking random-ish keys while they run.
    for step in 0..40u64 {
        source.apply(parent(&format!("p{}", (step * 7) % 10)));
        sleep(Duration::from_millis(2500)).await;
    }
    sleep(secs(200)).await;
    assert_eq!(
        *probe.max_running.lock().unwrap(),
        3,
        "the bound is reached and never exceeded"
    );
    assert!(
        probe.overlaps.lock().unwrap().is_empty(),
        "two runs of one key overlapped"
    );
    // Initial wave: 10 keys, 3 at a time, 10 s each.
    let first_starts: Vec<u64> = (0..10).map(|i| probe.starts_of(&format!("p{i}"))[0]).collect();
    assert_eq!(first_starts.iter().filter(|s| **s == 0).count(), 3);
    assert!(first_starts.iter().all(|s| *s <= 30));
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn errors_back_off_exponentially_and_success_resets() {
    let source = TestSource::new();
    source.apply(parent("a"));
    source.mark_synced();
    let probe = Probe::new(Duration::ZERO);
    probe.script(
        "a",
        [Err(()), Err(()), Err(()), Err(()), Ok(Action::await_change()), Err(())],
    );
    let metrics = Metrics::new();
    let controller = Controller::new(Arc::clone(&source), parent_type())
        .with_config(config())
        .with_metrics(metrics.clone());
    let running = start(controller, &probe);
    sleep(secs(100)).await;
    // Failures at 0, 1, 3, 7 (waits 1, 2, 4, 8 s); success at 15.
    assert_eq!(probe.starts_of("a"), [0, 1, 3, 7, 15]);
    source.apply(parent("a"));
    sleep(secs(100)).await;
    // The change runs at once and fails; the retry waits 1 s again (reset by the success).
    assert_eq!(probe.starts_of("a"), [0, 1, 3, 7, 15, 100, 101]);
    assert_eq!(metrics.reconciles("datacluster", ReconcileResult::Error), 5);
    assert_eq!(metrics.reconciles("datacluster", ReconcileResult::Success), 2);
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn backoff_jitter_is_seeded_and_bounded() {
    let run = |seed: u64| async move {
        let source = TestSource::new();
        source.apply(parent("a"));
        source.mark_synced();
        let probe = Probe::new(Duration::ZERO);
        probe.script("a", (0..6).map(|_| Err(())));
        let cfg = config()
            .with_backoff(BackoffConfig::new(secs(8), secs(600), 0.5).unwrap())
            .with_seed(seed);
        let running = start(
            Controller::new(Arc::clone(&source), parent_type()).with_config(cfg),
            &probe,
        );
        sleep(secs(1000)).await;
        running.shutdown().await;
        let starts = probe
            .starts
            .lock()
            .unwrap()
            .iter()
            .map(|(_, at)| *at)
            .collect::<Vec<_>>();
        starts.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>()
    };
    let gaps = run(1).await;
    assert_eq!(gaps.len(), 6);
    for (n, gap) in gaps.iter().enumerate() {
        let base = secs(8 << n);
        assert!(
            *gap <= base && *gap >= base / 2,
            "gap {n} = {gap:?} outside [{:?}, {base:?}]",
            base / 2
        );
    }
    assert_eq!(gaps, run(1).await, "same seed, same schedule");
    assert_ne!(gaps, run(2).await, "another seed, another jitter");
}

#[tokio::test(start_paused = true)]
async fn requeue_after_runs_the_key_again() {
    let source = TestSource::new();
    source.apply(parent("a"));
    source.mark_synced();
    let probe = Probe::new(secs(2));
    probe.script("a", (0..3).map(|_| Ok(Action::requeue(secs(30)))));
    let running = start(
        Controller::new(Arc::clone(&source), parent_type()).with_config(config()),
        &probe,
    );
    sleep(secs(200)).await;
    // Runs at 0, 2+30, 34+30, then await_change.
    assert_eq!(probe.starts_of("a"), [0, 32, 64, 96]);
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn resync_requeues_every_parent_periodically() {
    let source = TestSource::new();
    source.apply(parent("a"));
    source.apply(parent("b"));
    source.mark_synced();
    let probe = Probe::new(secs(1));
    let cfg = config().with_resync(Some(secs(60))).unwrap();
    let running = start(
        Controller::new(Arc::clone(&source), parent_type()).with_config(cfg),
        &probe,
    );
    sleep(secs(150)).await;
    assert_eq!(probe.starts_of("a"), [0, 60, 120]);
    assert_eq!(probe.starts_of("b"), [0, 60, 120]);
    source.delete(&parent("b").object_ref());
    sleep(secs(60)).await;
    assert_eq!(probe.starts_of("b"), [0, 60, 120], "a deleted parent is not reconciled");
    assert_eq!(probe.starts_of("a"), [0, 60, 120, 180]);
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_running_reconciles_up_to_the_deadline() {
    for (work, expect_elapsed, expect) in [
        (
            secs(5),
            secs(4),
            RunSummary {
                succeeded: 1,
                failed: 0,
                aborted: 0,
            },
        ),
        (
            secs(100),
            secs(10),
            RunSummary {
                succeeded: 0,
                failed: 0,
                aborted: 1,
            },
        ),
    ] {
        let source = TestSource::new();
        source.apply(parent("a"));
        source.apply(parent("b"));
        source.mark_synced();
        let probe = Probe::new(work);
        let cfg = config().with_concurrency(1).unwrap().with_shutdown_deadline(secs(10));
        let running = start(
            Controller::new(Arc::clone(&source), parent_type()).with_config(cfg),
            &probe,
        );
        sleep(secs(1)).await;
        let asked = Instant::now();
        let summary = running.shutdown().await;
        assert_eq!(asked.elapsed(), expect_elapsed, "work {work:?}");
        assert_eq!(summary, expect, "work {work:?}");
        assert_eq!(probe.starts_of("b"), Vec::<u64>::new(), "no new work after shutdown");
    }
}

#[tokio::test(start_paused = true)]
async fn child_events_map_to_the_parent() {
    let source = TestSource::new();
    source.apply(parent("p"));
    source.apply(parent("q"));
    source.mark_synced();
    let probe = Probe::new(secs(1));
    let secret = TypeRef::new("v1", "Secret");
    let controller = Controller::new(Arc::clone(&source), parent_type())
        .owns(cm_type())
        .watches(secret.clone(), |o: &Object| {
            o.label("cluster")
                .map(|c| vec![ObjectRef::namespaced(parent_type(), "ns", c)])
                .unwrap_or_default()
        })
        .with_config(config());
    let running = start(controller, &probe);
    sleep(secs(10)).await;

    let owner = parent("p").controller_owner_ref();
    let mut child = Object::new(&cm_type(), Some("ns"), "p-config");
    child.metadata.owner_references = Some(vec![owner.clone().unwrap()]);
    source.apply(child);
    sleep(secs(10)).await;
    assert_eq!(probe.starts_of("p"), [0, 10], "the owned child's change ran its parent");

    let mut foreign = Object::new(&cm_type(), Some("ns"), "other");
    foreign.metadata.owner_references = Some(vec![OwnerReference {
        controller: Some(false),
        ..owner.unwrap()
    }]);
    source.apply(foreign);
    sleep(secs(10)).await;
    assert_eq!(
        probe.starts_of("p"),
        [0, 10],
        "a non-controller owner reference maps to nothing"
    );

    let mut s = Object::new(&secret, Some("ns"), "creds");
    s.metadata.labels = Some([("cluster".to_string(), "q".to_string())].into());
    source.apply(s);
    sleep(secs(10)).await;
    assert_eq!(probe.starts_of("q"), [0, 30], "the custom mapper ran q");
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn reconciles_only_while_leading() {
    let source = TestSource::new();
    source.apply(parent("a"));
    source.mark_synced();
    let probe = Probe::new(secs(20));
    let (leader, leader_rx) = watch::channel(false);
    let cfg = config().with_resync(Some(secs(60))).unwrap();
    let controller = Controller::new(Arc::clone(&source), parent_type())
        .with_config(cfg)
        .leader_gate(leader_rx);
    let running = start(controller, &probe);
    sleep(secs(100)).await;
    assert_eq!(probe.runs(), 0, "a follower does not reconcile");
    leader.send_replace(true);
    sleep(secs(5)).await;
    assert_eq!(probe.starts_of("a"), [100]);
    leader.send_replace(false);
    sleep(secs(1)).await;
    assert!(
        probe.running.lock().unwrap().contains("a"),
        "the probe saw no end: the run was aborted"
    );
    sleep(secs(300)).await;
    assert_eq!(
        probe.starts_of("a"),
        [100],
        "nothing runs after losing leadership, resync included"
    );
    let summary = running.shutdown().await;
    assert_eq!(summary.aborted, 1);
}

#[tokio::test(start_paused = true)]
async fn metrics_encode_reconciles_durations_and_queue_depth() {
    let source = TestSource::new();
    source.apply(parent("a"));
    source.apply(parent("b"));
    source.mark_synced();
    let probe = Probe::new(Duration::from_millis(300));
    probe.script("b", [Err(())]);
    let metrics = Metrics::new();
    let controller = Controller::new(Arc::clone(&source), parent_type())
        .with_config(config())
        .with_metrics(metrics.clone());
    let running = start(controller, &probe);
    sleep(secs(10)).await;
    running.shutdown().await;
    metrics.record_write_skipped("ConfigMap");
    let text = metrics.encode_text().unwrap();
    for series in [
        r#"operator_runtime_reconciles_total{controller="datacluster",result="success"} 2"#,
        r#"operator_runtime_reconciles_total{controller="datacluster",result="error"} 1"#,
        // Three reconciles of 300 ms (virtual): all above the 0.16 s bucket, all within 0.32 s.
        r#"operator_runtime_reconcile_duration_seconds_bucket{le="0.16",controller="datacluster"} 0"#,
        r#"operator_runtime_reconcile_duration_seconds_bucket{le="0.32",controller="datacluster"} 3"#,
        r#"operator_runtime_reconcile_duration_seconds_count{controller="datacluster"} 3"#,
        r#"operator_runtime_queue_depth{controller="datacluster"} 0"#,
        r#"operator_runtime_writes_skipped_total{kind="ConfigMap"} 1"#,
    ] {
        assert!(text.contains(series), "missing {series} in\n{text}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_parent_change_already_handed_to_a_reconcile_does_not_queue_it_again() {
    let at = |rv: &str| {
        let mut o = parent("a");
        o.metadata.resource_version = Some(rv.into());
        o
    };
    let source = TestSource::new();
    source.apply(at("5"));
    source.mark_synced();
    let probe = Probe::new(secs(10));
    let running = start(
        Controller::new(Arc::clone(&source), parent_type()).with_config(config()),
        &probe,
    );
    sleep(secs(1)).await;
    // The watch's Added for the state the reconcile already got (it arrives late on a real
    // server), and an older one: nothing new.
    source.apply(at("5"));
    source.apply(at("4"));
    sleep(secs(30)).await;
    assert_eq!(
        probe.starts_of("a"),
        [0],
        "a state already reconciled is not reconciled again"
    );
    // A newer state is.
    source.apply(at("6"));
    sleep(secs(30)).await;
    assert_eq!(probe.starts_of("a"), [0, 31]);
    // A Modified event (the reconcile's own status write) for the state the running reconcile
    // was handed arrives late: nothing new either.
    source.modify(at("6"), at("5"));
    sleep(secs(30)).await;
    assert_eq!(probe.starts_of("a"), [0, 31], "a late Modified of a handed state");
    // After a delete and re-create the versions start over from what the new object has.
    source.delete(&at("6").object_ref());
    source.apply(at("7"));
    sleep(secs(30)).await;
    assert_eq!(probe.starts_of("a"), [0, 31, 91]);
    running.shutdown().await;
}
