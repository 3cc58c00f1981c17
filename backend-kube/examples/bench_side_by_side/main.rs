//! Side-by-side benchmark: the same workload (the bench operator's parents, 12 children each,
//! a finalizer and a status) run by three operators, on the real control plane and on the
//! memory API server over HTTP. Printed, not asserted.
//!
//! - (a) this runtime ([`runtime`]): the cache, the `Reconciler` and the `Controller` runner;
//! - (b) an idiomatic kube-rs 5 `Controller` operator ([`kube_rs`]), and its tuned variant
//!   (debounce 1 s, concurrency 4);
//! - (c) a seed-style loop ([`seed_loop`]): GET each child, compare a hash annotation, full PUT.
//!
//! Every operator runs as a separate process (this binary re-executed with `--role`) over a
//! fresh API server (a fresh test control plane, or a fresh memory API server), against
//! `N` parents created before it starts. Its kube client carries a counting layer
//! ([`counting`]), read through the child's stdin/stdout. The coordinator plays the
//! StatefulSet controller (writes every StatefulSet's status as rolled out; not counted) and
//! measures, per operator:
//! - converge: time from the process start until every parent has the finalizer and a Ready
//!   status for its generation and all `12 N` children exist with the right replicas; requests
//!   by verb until the operator has been quiet for 3 s;
//! - steady state: requests over a window with nothing changing;
//! - forced resync of every parent (the operator's own: a reconcile of every cached parent,
//!   `Controller::reconcile_all_on`, a LIST and a pass of the loop): requests and writes;
//! - spec change (`spec.nodeReplicas.broker = 5` on every parent): writes per parent;
//! - operator RSS (VmRSS after converging, VmHWM at the end, from `/proc/<pid>/status`).
//!
//! `cargo run --release -p operator-runtime-kube --example bench_side_by_side -- --parents 100,1000`
//!
//! Options: `--parents 100,1000` (real server; `0` skips it), `--memory 100` (memory API server
//! over HTTP; `0` skips it), `--operators runtime,kube-rs,kube-rs-tuned,seed-loop`,
//! `--steady-secs 10`.

mod counting;
mod kube_rs;
mod runtime;
mod seed_loop;
mod workload;

use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use operator_runtime_conformance::support::Ctx;
use operator_runtime_kube::KubeStore;
use operator_runtime_kube::testenv::{TestEnv, TestEnvOptions};
use operator_runtime_memory::MemoryStore;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use counting::{Counter, CountingLayer, Counts, since, total, writes};
use workload::{Widget, WidgetSpec, sts_ready};

/// The operators compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Runtime,
    KubeRs,
    KubeRsTuned,
    Seed,
}

const ALL: [Op; 4] = [Op::Runtime, Op::KubeRs, Op::KubeRsTuned, Op::Seed];

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Runtime => "runtime",
            Op::KubeRs => "kube-rs",
            Op::KubeRsTuned => "kube-rs-tuned",
            Op::Seed => "seed-loop",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Op::Runtime => "(a) runtime",
            Op::KubeRs => "(b) kube-rs",
            Op::KubeRsTuned => "(b') kube-rs tuned",
            Op::Seed => "(c) seed loop",
        }
    }

    fn parse(s: &str) -> Option<Op> {
        ALL.into_iter().find(|o| o.name() == s)
    }
}

/// How long the operator must be silent before a phase counts as done.
const QUIET: Duration = Duration::from_secs(3);
/// How long a convergence may take before the run fails.
const DEADLINE: Duration = Duration::from_secs(1800);

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if let Some(role) = arg(&args, "--role") {
        role_main(&role, &args).await
    } else {
        coordinate(&args).await
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_side_by_side: {e}");
            ExitCode::FAILURE
        }
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn numbers(s: &str) -> Result<Vec<usize>, Error> {
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        let n: usize = part.parse().map_err(|_| format!("not a number: {part}"))?;
        if n > 0 {
            out.push(n);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// The operator process.

/// Runs one operator; stdin takes `counts` (answered with `counts <json>` on stdout) and
/// `resync`; the process ends when stdin closes.
async fn role_main(role: &str, args: &[String]) -> Result<(), Error> {
    let op = Op::parse(role).ok_or_else(|| format!("unknown role {role}"))?;
    let kubeconfig = arg(args, "--kubeconfig").ok_or("--kubeconfig missing")?;
    let ns = arg(args, "--ns").ok_or("--ns missing")?;
    let config =
        kube::Config::from_custom_kubeconfig(Kubeconfig::read_from(&kubeconfig)?, &KubeConfigOptions::default())
            .await?;
    let counter = Counter::default();
    let client = kube::client::ClientBuilder::try_from(config)?
        .with_layer(&CountingLayer(counter.clone()))
        .build();
    let (resync_tx, resync) = futures::channel::mpsc::unbounded::<()>();
    let operator: std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>> = match op {
        Op::Runtime => Box::pin(runtime::run(client, resync)),
        Op::KubeRs => Box::pin(async move { kube_rs::run(client, &ns, false, resync).await }),
        Op::KubeRsTuned => Box::pin(async move { kube_rs::run(client, &ns, true, resync).await }),
        Op::Seed => Box::pin(async move { seed_loop::run(client, &ns, resync).await }),
    };
    let mut operator = tokio::spawn(operator);
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            line = lines.next_line() => match line?.as_deref().map(str::trim) {
                None => return Ok(()),
                Some("counts") => println!("counts {}", serde_json::to_string(&counter.snapshot())?),
                Some("resync") => resync_tx.unbounded_send(()).map_err(|e| e.to_string())?,
                Some(other) => return Err(format!("unknown command {other}").into()),
            },
            done = &mut operator => {
                return Err(format!("the operator stopped: {:?}", done?).into());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The coordinator.

/// What one operator did on one server.
#[derive(Clone, Debug, Default)]
struct Measured {
    converge: Duration,
    converge_counts: Counts,
    steady: Counts,
    resync: Counts,
    resync_time: Duration,
    spec: Counts,
    spec_time: Duration,
    rss_kib: u64,
    hwm_kib: u64,
}

struct Row {
    backend: &'static str,
    parents: usize,
    op: Op,
    m: Measured,
}

async fn coordinate(args: &[String]) -> Result<(), Error> {
    let real = numbers(&arg(args, "--parents").unwrap_or_else(|| "100,1000".into()))?;
    let memory = numbers(&arg(args, "--memory").unwrap_or_else(|| "100".into()))?;
    let ops: Vec<Op> = match arg(args, "--operators") {
        Some(list) => list
            .split(',')
            .map(|s| Op::parse(s).ok_or_else(|| format!("unknown operator {s}")))
            .collect::<Result<_, _>>()?,
        None => ALL.to_vec(),
    };
    let steady = Duration::from_secs(
        arg(args, "--steady-secs")
            .map(|s| s.parse())
            .transpose()
            .map_err(|_| "--steady-secs: not a number")?
            .unwrap_or(10),
    );
    let mut rows = Vec::new();
    for &n in &memory {
        for &op in &ops {
            let server = operator_runtime_memory::http::start(MemoryStore::new()).await?;
            eprintln!("== memory API server (HTTP), {n} parents, {}", op.label());
            let m = measure(op, n, server.client(), server.kubeconfig(), steady).await?;
            rows.push(Row {
                backend: "memory (HTTP)",
                parents: n,
                op,
                m,
            });
        }
        print_table(&rows, "memory (HTTP)", n);
    }
    for &n in &real {
        for &op in &ops {
            let t = Instant::now();
            let env = TestEnv::start_with(&TestEnvOptions::minimal()).await?;
            eprintln!(
                "== kube-apiserver (testenv, started in {:.1}s), {n} parents, {}",
                t.elapsed().as_secs_f64(),
                op.label()
            );
            let m = measure(op, n, env.client()?, env.kubeconfig_path(), steady).await?;
            rows.push(Row {
                backend: "kube-apiserver",
                parents: n,
                op,
                m,
            });
            drop(env);
        }
        print_table(&rows, "kube-apiserver", n);
    }
    println!("\n######## all results");
    for backend in ["memory (HTTP)", "kube-apiserver"] {
        let mut sizes: Vec<usize> = rows
            .iter()
            .filter(|r| r.backend == backend)
            .map(|r| r.parents)
            .collect();
        sizes.dedup();
        for n in sizes {
            print_table(&rows, backend, n);
        }
    }
    print_memory_per_child(&rows);
    Ok(())
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn measure(op: Op, n: usize, client: Client, kubeconfig: &Path, steady: Duration) -> Result<Measured, Error> {
    let store = KubeStore::new(client.clone());
    let ns = {
        let cx = Ctx::new(&store, &format!("side-by-side-{}", op.name())).await?;
        cx.install_crds().await?;
        cx.ns.clone()
    };
    let widgets: Api<Widget> = Api::namespaced(client.clone(), &ns);
    let create = PostParams::default();
    for i in 0..n {
        let w = Widget::new(&format!("dc-{i:04}"), WidgetSpec::default());
        retry(|| widgets.create(&create, &w)).await?;
    }
    let _player = AbortOnDrop(tokio::spawn(play_statefulsets(client.clone(), ns.clone())));

    let started = Instant::now();
    let mut child = OpChild::spawn(op, kubeconfig, &ns)?;
    let mut m = Measured::default();
    wait_converged(&client, &ns, n, 3, started).await?;
    m.converge = started.elapsed();
    let (converged, _) = child.quiet().await?;
    m.converge_counts = converged.clone();
    m.rss_kib = child.proc_status("VmRSS:")?;
    eprintln!(
        "   converged in {:.2}s, {} requests, RSS {} MiB",
        m.converge.as_secs_f64(),
        total(&converged),
        m.rss_kib / 1024
    );

    tokio::time::sleep(steady).await;
    let after_steady = child.counts().await?;
    m.steady = since(&after_steady, &converged);

    let t = Instant::now();
    child.command("resync").await?;
    let (after_resync, last) = child.quiet().await?;
    m.resync = since(&after_resync, &after_steady);
    m.resync_time = last.map(|l| l.duration_since(t)).unwrap_or_default();
    eprintln!(
        "   resync: {} requests in {:.2}s",
        total(&m.resync),
        m.resync_time.as_secs_f64()
    );

    let t = Instant::now();
    let change = Patch::Merge(json!({"spec": {"nodeReplicas": {"broker": 5}}}));
    let merge = PatchParams::default();
    for i in 0..n {
        let name = format!("dc-{i:04}");
        retry(|| widgets.patch(&name, &merge, &change)).await?;
    }
    wait_converged(&client, &ns, n, 5, t).await?;
    m.spec_time = t.elapsed();
    let (after_spec, _) = child.quiet().await?;
    m.spec = since(&after_spec, &after_resync);
    m.hwm_kib = child.proc_status("VmHWM:")?;
    eprintln!(
        "   spec change: {} requests, {} writes in {:.2}s",
        total(&m.spec),
        writes(&m.spec),
        m.spec_time.as_secs_f64()
    );
    child.stop().await;
    Ok(m)
}

/// The coordinator's own writes, retried: a loaded server answers 504 or 429 now and then.
async fn retry<T, F, Fut>(mut call: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut attempt = 0;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(kube::Error::Api(s)) if attempt < 10 && (s.code == 504 || s.code == 429 || s.code >= 500) => {
                attempt += 1;
                eprintln!("   (coordinator write failed with {}, retrying)", s.code);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Every parent has a finalizer and a Ready status for its generation; every child exists;
/// the broker StatefulSets have `broker` replicas, the others 3.
async fn wait_converged(client: &Client, ns: &str, n: usize, broker: i64, since: Instant) -> Result<(), Error> {
    // Polling lists every parent: keep it light on large runs, where it would load the server.
    let every = Duration::from_millis(if n <= 100 { 100 } else { 1000 });
    loop {
        match converged(client, ns, n, broker).await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            // A loaded server times out now and then: not the operator's failure.
            Err(e) => eprintln!("   (convergence check failed, retrying: {e})"),
        }
        if since.elapsed() > DEADLINE {
            return Err(format!("not converged after {DEADLINE:?}").into());
        }
        tokio::time::sleep(every).await;
    }
}

async fn converged(client: &Client, ns: &str, n: usize, broker: i64) -> Result<bool, Error> {
    let lp = ListParams::default();
    let parents = Api::<Widget>::namespaced(client.clone(), ns).list(&lp).await?;
    if parents.items.len() != n || !parents.items.iter().all(|w| !w.finalizers().is_empty() && w.is_ready()) {
        return Ok(false);
    }
    let ours = |name: &str| name.starts_with("dc-");
    let cms = Api::<ConfigMap>::namespaced(client.clone(), ns)
        .list_metadata(&lp)
        .await?;
    let svcs = Api::<Service>::namespaced(client.clone(), ns)
        .list_metadata(&lp)
        .await?;
    let stss = Api::<StatefulSet>::namespaced(client.clone(), ns).list(&lp).await?;
    let count = |names: Vec<String>| names.iter().filter(|n| ours(n)).count();
    let sts_ok = stss.items.iter().filter(|s| ours(&s.name_any())).all(|s| {
        let want = if s.name_any().ends_with("-broker") { broker } else { 3 };
        s.spec.replicas.map(i64::from) == Some(want)
    });
    Ok(count(cms.items.iter().map(|o| o.name_any()).collect()) == 4 * n
        && count(svcs.items.iter().map(|o| o.name_any()).collect()) == 4 * n
        && count(stss.items.iter().map(|o| o.name_any()).collect()) == 4 * n
        && sts_ok)
}

/// Plays the StatefulSet controller: every StatefulSet not reporting its replicas ready at its
/// generation gets that status (as the conformance fixture's `mark_workloads_ready`).
async fn play_statefulsets(client: Client, ns: String) {
    let api: Api<StatefulSet> = Api::namespaced(client, &ns);
    watcher(api.clone(), watcher::Config::default())
        .default_backoff()
        .applied_objects()
        .for_each_concurrent(4, |sts| {
            let api = api.clone();
            async move {
                let Ok(sts) = sts else { return };
                let replicas = sts.spec.replicas.map_or(1, i64::from);
                let revisions = sts
                    .status
                    .as_ref()
                    .is_some_and(|s| s.current_revision.is_some() && s.current_revision == s.update_revision);
                if sts_ready(&sts, replicas) && revisions {
                    return;
                }
                let status = json!({"status": {"observedGeneration": sts.metadata.generation, "replicas": replicas,
                    "updatedReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
                    "currentReplicas": replicas, "currentRevision": "r1", "updateRevision": "r1"}});
                if let Err(e) = api
                    .patch_status(&sts.name_any(), &PatchParams::default(), &Patch::Merge(&status))
                    .await
                {
                    eprintln!("statefulset player: {}: {e}", sts.name_any());
                }
            }
        })
        .await;
}

/// A running operator process.
struct OpChild {
    child: tokio::process::Child,
    pid: u32,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl OpChild {
    fn spawn(op: Op, kubeconfig: &Path, ns: &str) -> Result<Self, Error> {
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .arg("--role")
            .arg(op.name())
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--ns")
            .arg(ns)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().ok_or("the operator exited at once")?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        Ok(Self {
            child,
            pid,
            stdin,
            lines: BufReader::new(stdout).lines(),
        })
    }

    async fn command(&mut self, command: &str) -> Result<(), Error> {
        self.stdin.write_all(format!("{command}\n").as_bytes()).await?;
        self.stdin.flush().await?;
        Ok(())
    }

    async fn counts(&mut self) -> Result<Counts, Error> {
        self.command("counts").await?;
        loop {
            let line = self.lines.next_line().await?.ok_or("the operator exited")?;
            if let Some(json) = line.strip_prefix("counts ") {
                return Ok(serde_json::from_str(json)?);
            }
        }
    }

    /// Polls the counts until they have not moved for [`QUIET`]; returns them and when they
    /// last moved (None: not at all).
    async fn quiet(&mut self) -> Result<(Counts, Option<Instant>), Error> {
        let mut last = self.counts().await?;
        let mut last_change = None;
        let mut stable_since = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = self.counts().await?;
            if now != last {
                last = now;
                last_change = Some(Instant::now());
                stable_since = Instant::now();
            } else if stable_since.elapsed() >= QUIET {
                return Ok((last, last_change));
            }
        }
    }

    /// A `kB` field of `/proc/<pid>/status`, in KiB.
    fn proc_status(&self, field: &str) -> Result<u64, Error> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let line = status
            .lines()
            .find(|l| l.starts_with(field))
            .ok_or_else(|| format!("{field} not in /proc/{}/status", self.pid))?;
        let kib = line
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("cannot read {line}"))?;
        Ok(kib)
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

// ---------------------------------------------------------------------------------------
// Output.

fn ratio(a: f64, b: f64) -> String {
    if b == 0.0 {
        if a == 0.0 { "0/0".into() } else { "inf".into() }
    } else {
        format!("{:.2}", a / b)
    }
}

fn print_table(rows: &[Row], backend: &str, n: usize) {
    let rows: Vec<&Row> = rows.iter().filter(|r| r.backend == backend && r.parents == n).collect();
    if rows.is_empty() {
        return;
    }
    println!("\n### {backend}, {n} parents x 12 children");
    println!(
        "| operator | converge s | converge requests | converge writes | steady req / writes | resync req / writes | resync s | spec change writes / parent | RSS MiB (converged / peak) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let m = &r.m;
        println!(
            "| {} | {:.2} | {} | {} | {} / {} | {} / {} | {:.2} | {:.2} | {:.1} / {:.1} |",
            r.op.label(),
            m.converge.as_secs_f64(),
            total(&m.converge_counts),
            writes(&m.converge_counts),
            total(&m.steady),
            writes(&m.steady),
            total(&m.resync),
            writes(&m.resync),
            m.resync_time.as_secs_f64(),
            writes(&m.spec) as f64 / n as f64,
            m.rss_kib as f64 / 1024.0,
            m.hwm_kib as f64 / 1024.0,
        );
    }
    for r in &rows {
        println!("  {} converge by verb: {:?}", r.op.label(), r.m.converge_counts);
    }
    let Some(a) = rows.iter().find(|r| r.op == Op::Runtime) else {
        return;
    };
    for b in rows.iter().filter(|r| r.op != Op::Runtime) {
        let (x, y) = (&a.m, &b.m);
        println!(
            "  (a)/{}: converge time {}, converge requests {}, resync requests {}, spec-change writes {}, RSS {}",
            b.op.label().split(' ').next().unwrap_or(""),
            ratio(x.converge.as_secs_f64(), y.converge.as_secs_f64()),
            ratio(total(&x.converge_counts) as f64, total(&y.converge_counts) as f64),
            ratio(total(&x.resync) as f64, total(&y.resync) as f64),
            ratio(writes(&x.spec) as f64, writes(&y.spec) as f64),
            ratio(x.rss_kib as f64, y.rss_kib as f64),
        );
    }
}

/// RSS per cached child: the growth of the converged RSS between the smallest and the largest
/// run of an operator on one backend, per added child (12 per parent).
fn print_memory_per_child(rows: &[Row]) {
    println!("\n### operator RSS per child (converged RSS growth between runs, per added child)");
    for backend in ["memory (HTTP)", "kube-apiserver"] {
        for op in ALL {
            let runs: Vec<&Row> = rows.iter().filter(|r| r.backend == backend && r.op == op).collect();
            let (Some(small), Some(large)) = (
                runs.iter().min_by_key(|r| r.parents),
                runs.iter().max_by_key(|r| r.parents),
            ) else {
                continue;
            };
            if small.parents == large.parents {
                continue;
            }
            let children = 12.0 * (large.parents - small.parents) as f64;
            let per_child = (large.m.rss_kib as f64 - small.m.rss_kib as f64) * 1024.0 / children;
            println!(
                "  {backend:<15} {:<20} {:>7.0} bytes per child ({} -> {} parents)",
                op.label(),
                per_child,
                small.parents,
                large.parents
            );
        }
    }
}
