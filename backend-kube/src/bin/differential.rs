//! The differential fuzzer: seeded sequences of store operations on the memory backend and on
//! a real API server (the test control plane, started here), compared answer by answer.
//!
//! ```text
//! cargo run -p operator-runtime-kube --features differential --bin differential -- --seeds 0..200
//! cargo run -p operator-runtime-kube --features differential --bin differential -- --seed 17 --keep 0,4 --simplify 4:0
//! ```
//!
//! Options: `--seeds A..B` (a range), `--seed N` (one seed, optionally with the `--keep` and
//! `--simplify` arguments a divergence report prints, to replay its minimal sequence),
//! `--jobs K` (sequences at once, default 4), `--no-shrink`, `--survey` (run every sequence
//! to its end and list each divergence class with how many seeds show it; always exits 0),
//! `--kinds all|checked|pod,job,...` (the kinds sequences are drawn from, by short name;
//! default `checked`, the kinds CI holds to no divergence), `--self-check` (the real server on both sides: must show no divergence; checks the fuzzer's
//! normalization and its determinism, and measures full-length sequences). Exits non-zero when a divergence
//! is not in the accepted list (`operator_runtime_conformance::differential::ACCEPTED`).

use std::process::ExitCode;
use std::time::Instant;

use operator_runtime_conformance::differential::{Engine, KindSet, Replay, Summary};
use operator_runtime_core::ObjectStore;
use operator_runtime_kube::KubeStore;
use operator_runtime_kube::testenv::TestEnv;
use operator_runtime_memory::MemoryStore;

#[derive(Debug, Default)]
struct Args {
    seeds: Option<std::ops::Range<u64>>,
    seed: Option<u64>,
    keep: Option<String>,
    simplify: Option<String>,
    jobs: usize,
    no_shrink: bool,
    survey: bool,
    self_check: bool,
    kinds: Option<KindSet>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        jobs: 4,
        ..Args::default()
    };
    let mut it = std::env::args().skip(1);
    let number = |flag: &str, v: Option<String>| -> Result<u64, String> {
        let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
        v.parse::<u64>().map_err(|e| format!("{flag} {v}: {e}"))
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--seeds" => {
                let v = it.next().ok_or("--seeds needs a range A..B")?;
                let (a, b) = v
                    .split_once("..")
                    .ok_or_else(|| format!("--seeds {v}: expected A..B"))?;
                let a = a.parse::<u64>().map_err(|e| format!("--seeds {v}: {e}"))?;
                let b = b.parse::<u64>().map_err(|e| format!("--seeds {v}: {e}"))?;
                args.seeds = Some(a..b);
            }
            "--seed" => args.seed = Some(number("--seed", it.next())?),
            "--keep" => args.keep = Some(it.next().ok_or("--keep needs a list")?),
            "--simplify" => args.simplify = Some(it.next().ok_or("--simplify needs a list")?),
            "--jobs" => args.jobs = usize::try_from(number("--jobs", it.next())?).map_err(|e| e.to_string())?,
            "--no-shrink" => args.no_shrink = true,
            "--survey" => args.survey = true,
            "--self-check" => args.self_check = true,
            "--kinds" => args.kinds = Some(KindSet::parse(&it.next().ok_or("--kinds needs a list")?)?),
            other => return Err(format!("unknown argument {other} (see the doc comment of this binary)")),
        }
    }
    if args.seeds.is_none() && args.seed.is_none() {
        args.seeds = Some(0..100);
    }
    Ok(args)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("differential: starting the test control plane ...");
    let env = match TestEnv::start().await {
        Ok(env) => env,
        Err(e) => {
            eprintln!("error: the test control plane could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let client = match env.client() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.self_check {
        let left = client.clone();
        let engine = match Engine::new(KubeStore::new(client), move || {
            let left = left.clone();
            async move {
                let store = KubeStore::new(left);
                let mut caps = store.capabilities();
                caps.name = "kube-self".to_owned();
                store.with_capabilities(caps)
            }
        })
        .await
        {
            Ok(mut engine) => {
                engine.kinds = args.kinds.unwrap_or(KindSet::CHECKED);
                engine
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        let start = Instant::now();
        let summary = engine
            .check_range(args.seeds.clone().unwrap_or(0..100), args.jobs)
            .await;
        eprint!("{}", summary.render(&engine.figures(), engine.names(), start.elapsed()));
        return if summary.is_success() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let engine = match Engine::new(KubeStore::new(client), || async { MemoryStore::new() }).await {
        Ok(mut engine) => {
            engine.shrink = !args.no_shrink;
            engine.kinds = args.kinds.unwrap_or(KindSet::CHECKED);
            engine
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    if args.survey {
        let seeds = args.seeds.clone().unwrap_or(0..100);
        // States differ after a first divergence, so settling would often wait in vain.
        let mut engine = engine;
        engine.settle_deadline = std::time::Duration::from_secs(2);
        let classes = engine.survey(seeds, args.jobs).await;
        for (class, (count, seed, divergence)) in &classes {
            eprintln!("survey: {count:4} seeds, first seed {seed}: {class}");
            for line in divergence.display(engine.names()).to_string().lines().skip(1).take(6) {
                eprintln!("survey:     {line}");
            }
        }
        let figures = engine.figures();
        eprintln!(
            "survey: {} classes, {} of {} sequences divergent, {} operations per side in {:.1} s",
            classes.len(),
            figures.divergent,
            figures.sequences,
            figures.operations,
            start.elapsed().as_secs_f64()
        );
        return ExitCode::SUCCESS;
    }
    let summary = if let Some(seed) = args.seed {
        replay_one(&engine, seed, &args).await
    } else {
        engine.check_range(args.seeds.unwrap_or(0..100), args.jobs).await
    };
    eprint!("{}", summary.render(&engine.figures(), engine.names(), start.elapsed()));
    if summary.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// One seed: with `--keep`/`--simplify`, runs exactly that minimal sequence; otherwise checks
/// (and shrinks) the seed's whole sequence.
async fn replay_one<R, F, Fut>(engine: &Engine<R, F>, seed: u64, args: &Args) -> Summary
where
    R: operator_runtime_core::ObjectStore,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = MemoryStore>,
{
    let mut summary = Summary::default();
    if args.keep.is_none() && args.simplify.is_none() {
        let result = engine.check_seed(seed).await;
        if let Ok(r) = &result {
            eprint!(
                "{}",
                operator_runtime_conformance::differential::describe(r, engine.names())
            );
        }
        summary.add(&result, seed);
        return summary;
    }
    eprintln!("differential: seed={seed}");
    let replay = match Replay::parse(
        seed,
        args.kinds.unwrap_or(KindSet::CHECKED),
        args.keep.as_deref(),
        args.simplify.as_deref(),
    ) {
        Ok(r) => r,
        Err(e) => {
            summary.seeds = 1;
            summary.errors.push((seed, e));
            return summary;
        }
    };
    summary.seeds = 1;
    match engine.replay(&replay).await {
        Err(e) => summary.errors.push((seed, e)),
        Ok((ops, found)) => {
            for (index, op) in replay.keep.iter().zip(&ops) {
                eprintln!("    [{index}] {op}");
            }
            match found {
                None => eprintln!("differential: seed={seed}: no divergence"),
                Some(d) => {
                    eprint!("{}", d.display(engine.names()));
                    match operator_runtime_conformance::differential::accepted::accepted(&d.class) {
                        Some(a) => {
                            eprintln!("accepted: {}", a.reason);
                            summary.accepted.push(seed);
                        }
                        None => summary.failed.push(seed),
                    }
                }
            }
        }
    }
    summary
}
