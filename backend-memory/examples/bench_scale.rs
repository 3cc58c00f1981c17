//! Scale curve of the reconcile benchmark on the memory backend (issue 13): converge time,
//! resync time and peak memory at 100, 1,000 and 10,000 parents (12 children each), printed
//! as a table and written as an SVG plot (hand-written SVG, no plotting dependency).
//!
//! Each size runs in its own child process (this binary re-executed with `--size N`), so the
//! peak resident memory of one size (`VmHWM` from `/proc/self/status`) is not polluted by
//! another. In the child, the baseline (the same children created straight into a fresh
//! store) runs first, twice, and its store is dropped before the runtime's world is built.
//! The second baseline run is the one compared: the first one is the first to touch the
//! process's memory, and page faults on fresh memory made it about twice as slow at 6,000
//! parents (3.4 s against 1.7 s), which flattered the converge ratio at the larger sizes.
//! The peak resident memory comes from a second child (`--runtime-only`) that runs the
//! runtime's world alone: in the first one the baseline's store had already set the peak (at
//! 10,000 parents `VmHWM` was 2,136 MiB after the baselines, before the runtime ran).
//!
//! `cargo run --release -p operator-runtime-memory --example bench_scale [-- sizes... [--svg path]]`
//! (default sizes 100 1000 10000, default plot `target/bench_scale.svg`).
//!
//! The process allocates through mimalloc, as the test command's simulation does. With glibc's
//! malloc the converge at 10,000 parents took 14.9 s against 10.3 s (its second round, after
//! 40,000 StatefulSet status writes had freed as many old versions, ran at half the speed per
//! parent of the 1,000-parent run, most of it in `_int_malloc` walking fragmented bins), for
//! the straight writes 3.05 s against 2.68 s. An operator with a large cache should pick such
//! an allocator too; `MIMALLOC_PURGE_DELAY` is set to -1 for the children unless given (see
//! `parent`).
//!
//! With `--features bench-heap`, each child also counts its heap (a counting global allocator)
//! and, after the phases, takes the world apart piece by piece to say what the live heap held:
//! the recorded events, the runtime (driver and cache, beyond the objects it shares with the
//! store), the store's watch history, and the store's objects (printed per size as `memory:`
//! lines), and the table gains its peak-live column. The count costs an atomic operation per
//! allocation: at 1,000 parents it slowed the converge by 13% (0.704 s against 0.612 s, best of
//! four) and the straight writes not at all, so times are taken from a build without it.

use std::fmt::Write as _;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Instant;

#[cfg(feature = "bench-heap")]
use cap::Cap;
use mimalloc::MiMalloc;

use operator_runtime_conformance::bench::{BenchWorld, thread_cpu};
use operator_runtime_core::store::WriteParams;
use operator_runtime_core::{Object, ObjectStore, TypeRef};
use operator_runtime_memory::MemoryStore;

/// mimalloc, as the test command's simulation uses (see the module docs for why not the
/// system allocator); with feature `bench-heap`, counting the bytes it hands out (what the live
/// heap holds, without the allocator's own fragmentation that `VmHWM` also sees).
#[cfg(feature = "bench-heap")]
#[global_allocator]
static GLOBAL: Cap<MiMalloc> = Cap::new(MiMalloc, usize::MAX);

/// mimalloc, uncounted: the build whose times the table shows.
#[cfg(not(feature = "bench-heap"))]
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// Live heap now, in MiB; None without the counting allocator (feature `bench-heap`).
fn live_mib() -> Option<f64> {
    #[cfg(feature = "bench-heap")]
    return Some(GLOBAL.allocated() as f64 / (1024.0 * 1024.0));
    #[cfg(not(feature = "bench-heap"))]
    None
}

/// What one size measured (one line of the child's output).
#[derive(Clone, Debug)]
struct Row {
    parents: usize,
    baseline_s: f64,
    converge_s: f64,
    resync_s: f64,
    resync_requests: u64,
    converge_requests: u64,
    /// `VmHWM` of the process that ran only the runtime's world, in MiB.
    peak_mib: f64,
    /// Largest live heap seen while the runtime's world ran (sampled every 2 ms), in MiB:
    /// `peak_mib` less this is what the allocator kept beyond the live data.
    peak_live_mib: f64,
    /// CPU time of the same phases (this thread's, from `/proc/thread-self/schedstat`).
    baseline_cpu: f64,
    converge_cpu: f64,
    resync_cpu: f64,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--size") => child(&args),
        _ => parent(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_scale: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Peak resident set size of this process, in KiB (`VmHWM`).
fn peak_kib() -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| format!("/proc/self/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM in /proc/self/status".to_owned())
}

/// Runs one size and prints `RESULT parents baseline converge resync resync_requests
/// converge_requests peak_kib baseline_cpu converge_cpu resync_cpu peak_live_mib` (`peak_kib`
/// is this whole process's, baselines included: the table replaces it by the runtime-only
/// child's); with
/// `--runtime-only` (no baselines in the process, so its peak is the runtime world's alone)
/// `PEAK parents peak_kib`.
fn child(args: &[String]) -> Result<(), String> {
    let parents: usize = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .ok_or("--size needs a number")?;
    let runtime_only = args.iter().any(|a| a == "--runtime-only");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        // Run twice, keep the second: see the module docs (first touch of fresh memory).
        let mut runs = Vec::new();
        for _ in 0..(if runtime_only { 0 } else { 2 }) {
            let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
            let base = BenchWorld::bench(Arc::clone(&store), "bench_scale_baseline").await?;
            let created = base.create_parents(parents).await?;
            let children = base.desired_children(&created)?;
            let (t, cpu) = (Instant::now(), thread_cpu());
            for c in &children {
                store
                    .create(c, &WriteParams::default())
                    .await
                    .map_err(|e| format!("baseline create: {e}"))?;
            }
            runs.push((t.elapsed(), thread_cpu().saturating_sub(cpu)));
            // The baseline world's watch loops hold the store: stop them and let the runtime
            // reap them before the next run, or two baseline stores are alive at once (which
            // raised the 10,000-parent peak to the sum of both, 3.2 GB before the runtime ran).
            base.cache.shutdown();
            drop((base, created, children, store));
            reap_aborted_tasks().await;
        }
        let baseline = runs.get(1).copied().unwrap_or_default();
        if !runtime_only {
            eprintln!(
                "bench_scale: {parents} parents: baseline runs {:.3} s (first touch of fresh memory) and {:.3} s (compared); peak {:.0} MiB after them",
                runs.first().map_or(0.0, |r| r.0.as_secs_f64()),
                baseline.0.as_secs_f64(),
                peak_kib()? as f64 / 1024.0,
            );
        }
        let sampler = live_mib().map(|_| PeakSampler::start());
        let memory = MemoryStore::new();
        let store_handle = memory.clone();
        let store: Arc<dyn ObjectStore> = Arc::new(memory);
        let world = BenchWorld::bench(store, "bench_scale").await?;
        world.create_parents(parents).await?;
        world.settle().await?;
        let converge = world.converge_all(parents).await?;
        let resync = world.resync_all(parents).await?;
        // NaN (printed as "-") in a build that does not count its heap.
        let peak_live = sampler.map_or(f64::NAN, PeakSampler::stop);
        if runtime_only {
            println!("PEAK {parents} {}", peak_kib()?);
            return Ok(());
        }
        let rounds: Vec<String> = converge
            .per_round
            .iter()
            .map(|(t, writes)| format!("{:.3} s ({writes} writes)", t.as_secs_f64()))
            .collect();
        eprintln!("bench_scale: {parents} parents: converge rounds {}", rounds.join(", "));
        let breakdown = match live_mib() {
            Some(_) => take_apart(world, &store_handle).await,
            None => {
                drop(world);
                "not counted in this build (run with --features bench-heap)".to_owned()
            }
        };
        drop(store_handle);
        println!(
            "RESULT {parents} {} {} {} {} {} {} {} {} {} {}",
            baseline.0.as_secs_f64(),
            converge.elapsed.as_secs_f64(),
            resync.elapsed.as_secs_f64(),
            resync.requests.total(),
            converge.requests.total(),
            peak_kib()?,
            baseline.1.as_secs_f64(),
            converge.cpu.as_secs_f64(),
            resync.cpu.as_secs_f64(),
            peak_live,
        );
        println!("MEMORY {parents} {breakdown}");
        Ok(())
    })
}

/// Samples the live heap on a thread of its own and keeps the largest value.
struct PeakSampler {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<f64>,
}

impl PeakSampler {
    fn start() -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let live = || live_mib().unwrap_or(f64::NAN);
        let thread = std::thread::spawn(move || {
            let mut peak = live();
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(live());
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            peak.max(live())
        });
        Self { stop, thread }
    }

    /// The largest live heap seen, in MiB.
    fn stop(self) -> f64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap_or(f64::NAN)
    }
}

/// Lets a current-thread runtime drop the tasks aborted before (a runtime reaps an aborted
/// task only when it gets to run, and the memory store's calls never yield to it).
async fn reap_aborted_tasks() {
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
}

/// [`live_mib`] where only a counting build calls it.
fn heap_mib() -> f64 {
    live_mib().unwrap_or(0.0)
}

/// Takes the world apart after the phases and says what each piece held of the live heap (MiB):
/// `live=... events=... runtime=... history=... objects=...`.
async fn take_apart(world: BenchWorld, store: &MemoryStore) -> String {
    // Let the cache apply what is still queued, so it holds the store's current objects.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let live = heap_mib();
    drop(world.events.take());
    let after_events = heap_mib();
    world.cache.shutdown();
    drop(world);
    reap_aborted_tasks().await;
    let after_runtime = heap_mib();
    store.trim_history(1);
    let after_history = heap_mib();
    let mut by_kind = String::new();
    for kind in [
        TypeRef::new("v1", "ConfigMap"),
        TypeRef::new("v1", "Service"),
        TypeRef::new("apps/v1", "StatefulSet"),
        TypeRef::new("example.com/v1", "Widget"),
    ] {
        let _ = write!(by_kind, " {}", kind_bytes(store, &kind).await);
    }
    format!(
        "live={live:.1} events={:.1} runtime={:.1} history={:.1} objects={after_history:.1}{by_kind}",
        live - after_events,
        after_events - after_runtime,
        after_runtime - after_history
    )
}

/// What the stored objects of one kind take on the heap: `Kind=N*bytes(managedFields bytes)`,
/// measured on deep copies (the copy of an object allocates what the object holds).
async fn kind_bytes(store: &MemoryStore, kind: &TypeRef) -> String {
    let Ok(list) = store.list(kind, &Default::default()).await else {
        return format!("{}=?", kind.kind);
    };
    let n = list.items.len().max(1) as f64;
    let before = heap_mib();
    let mut copies: Vec<Object> = list.items.iter().map(|o| Object::clone(o)).collect();
    let whole = heap_mib() - before;
    copies.iter_mut().for_each(|o| o.metadata.managed_fields = None);
    let without = heap_mib() - before;
    drop(copies);
    // The same objects in a compact tree (see `Compact`) and as JSON text, to size what a
    // body representation other than `serde_json`'s maps would hold.
    let before = heap_mib();
    let compact: Vec<Compact> = list
        .items
        .iter()
        .filter_map(|o| o.to_value().ok())
        .map(|v| Compact::from(&v))
        .collect();
    let compact_bytes = heap_mib() - before;
    drop(compact);
    let json: usize = list
        .items
        .iter()
        .filter_map(|o| serde_json::to_vec(&**o).ok())
        .map(|j| j.len())
        .sum();
    let mib = 1024.0 * 1024.0;
    format!(
        "{}={}*{:.0}B(managedFields {:.0}B; compact tree {:.0}B; JSON {:.0}B)",
        kind.kind,
        list.items.len(),
        whole * mib / n,
        (whole - without) * mib / n,
        compact_bytes * mib / n,
        json as f64 / n
    )
}

/// A JSON tree without `serde_json`'s B-tree maps: each map a boxed slice of its entries in
/// order, each string boxed to its length (24 bytes a node). Not used by the library: it
/// sizes what a compact body representation of `Object` would hold.
#[allow(dead_code)] // Held only to be measured.
enum Compact {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(Box<str>),
    Array(Box<[Compact]>),
    Object(Box<[(Box<str>, Compact)]>),
}

impl From<&serde_json::Value> for Compact {
    fn from(v: &serde_json::Value) -> Self {
        use serde_json::Value;
        match v {
            Value::Null => Compact::Null,
            Value::Bool(b) => Compact::Bool(*b),
            Value::Number(n) => Compact::Number(n.clone()),
            Value::String(s) => Compact::String(s.as_str().into()),
            Value::Array(items) => Compact::Array(items.iter().map(Compact::from).collect()),
            Value::Object(map) => {
                Compact::Object(map.iter().map(|(k, v)| (k.as_str().into(), Compact::from(v))).collect())
            }
        }
    }
}

fn parse_row(line: &str) -> Option<Row> {
    let f: Vec<&str> = line.strip_prefix("RESULT ")?.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
    Some(Row {
        parents: f.first()?.parse().ok()?,
        baseline_s: num(1)?,
        converge_s: num(2)?,
        resync_s: num(3)?,
        resync_requests: f.get(4)?.parse().ok()?,
        converge_requests: f.get(5)?.parse().ok()?,
        peak_mib: num(6)? / 1024.0,
        baseline_cpu: num(7)?,
        converge_cpu: num(8)?,
        resync_cpu: num(9)?,
        peak_live_mib: num(10)?,
    })
}

/// `VmHWM` (KiB) of a child that runs only the runtime's world at `size` parents.
fn runtime_peak_kib(exe: &std::path::Path, size: usize) -> Result<u64, String> {
    let out = Command::new(exe)
        .args(["--size", &size.to_string(), "--runtime-only"])
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("PEAK {size} "))?.trim().parse().ok())
        .filter(|_| out.status.success())
        .ok_or_else(|| {
            let stderr = String::from_utf8_lossy(&out.stderr);
            format!("{stdout}{stderr}").chars().take(400).collect()
        })
}

fn parent(args: &[String]) -> Result<(), String> {
    let mut sizes = Vec::new();
    let mut svg_path = String::from("target/bench_scale.svg");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--svg" {
            svg_path = it.next().ok_or("--svg needs a path")?.clone();
        } else {
            sizes.push(a.parse::<usize>().map_err(|e| format!("size {a:?}: {e}"))?);
        }
    }
    if sizes.is_empty() {
        sizes = vec![100, 1_000, 10_000];
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    let mut memory = Vec::new();
    let mut failed = Vec::new();
    for size in sizes {
        eprintln!("bench_scale: {size} parents ...");
        // mimalloc returns freed pages to the system after a short delay by default: the
        // compared baseline run (after the first one's store was dropped) would fault its
        // memory in again, which flatters the ratio. Kept, as glibc keeps them.
        let purge_delay = std::env::var("MIMALLOC_PURGE_DELAY").unwrap_or_else(|_| "-1".to_owned());
        let out = Command::new(&exe)
            .args(["--size", &size.to_string()])
            .env("MIMALLOC_PURGE_DELAY", purge_delay)
            .output()
            .map_err(|e| format!("running size {size}: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        memory.extend(
            stdout
                .lines()
                .filter_map(|l| l.strip_prefix("MEMORY "))
                .map(str::to_owned),
        );
        match stdout.lines().find_map(parse_row) {
            Some(mut row) if out.status.success() => {
                // The child's notes (baseline runs, converge rounds).
                eprint!("{}", String::from_utf8_lossy(&out.stderr));
                // The peak comes from a process that runs the runtime's world alone: in the
                // one above, the baseline's store (120,000 children at 10,000 parents) set
                // the peak before the runtime ran.
                match runtime_peak_kib(&exe, size) {
                    Ok(kib) => {
                        row.peak_mib = kib as f64 / 1024.0;
                        rows.push(row);
                    }
                    Err(e) => {
                        eprintln!("bench_scale: size {size}: runtime-only run failed: {e}");
                        failed.push(size);
                    }
                }
            }
            _ => {
                // A failing size is reported (its message cut short) and the others still run.
                let stderr = String::from_utf8_lossy(&out.stderr);
                let why: String = format!("{stdout}{stderr}").chars().take(400).collect();
                eprintln!("bench_scale: size {size} failed: {why}");
                failed.push(size);
            }
        }
    }
    println!(
        "{:>8} {:>10} {:>11} {:>7} {:>10} {:>9} {:>8} {:>10} {:>12} {:>14}",
        "parents",
        "children",
        "converge s",
        "ratio",
        "baseline s",
        "resync s",
        "resync rq",
        "peak MiB",
        "KiB/child",
        "peak live MiB"
    );
    for r in &rows {
        let children = r.parents * 12;
        println!(
            "{:>8} {:>10} {:>11.3} {:>6.2}x {:>10.3} {:>9.3} {:>8} {:>10.0} {:>12.1} {:>14}",
            r.parents,
            children,
            r.converge_s,
            r.converge_s / r.baseline_s,
            r.baseline_s,
            r.resync_s,
            r.resync_requests,
            r.peak_mib,
            r.peak_mib * 1024.0 / children as f64,
            if r.peak_live_mib.is_nan() {
                "-".to_owned()
            } else {
                format!("{:.0}", r.peak_live_mib)
            }
        );
    }
    println!("CPU time of the same phases (steadier than wall time on a loaded machine):");
    println!(
        "{:>8} {:>15} {:>7} {:>15} {:>13}",
        "parents", "converge cpu s", "ratio", "baseline cpu s", "resync cpu s"
    );
    for r in &rows {
        println!(
            "{:>8} {:>15.3} {:>6.2}x {:>15.3} {:>13.3}",
            r.parents,
            r.converge_cpu,
            r.converge_cpu / r.baseline_cpu,
            r.baseline_cpu,
            r.resync_cpu
        );
    }
    for r in &rows {
        println!(
            "{} parents: {} requests to converge ({:.2} per child)",
            r.parents,
            r.converge_requests,
            r.converge_requests as f64 / (r.parents * 12) as f64
        );
    }
    println!("live heap after the phases, and what held it (MiB):");
    for line in &memory {
        let (parents, rest) = line.split_once(' ').unwrap_or((line, ""));
        println!("{parents:>8} parents: {rest}");
    }
    let svg = plot(&rows);
    if let Some(dir) = std::path::Path::new(&svg_path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&svg_path, svg).map_err(|e| format!("{svg_path}: {e}"))?;
    println!("plot written to {svg_path}");
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("sizes {failed:?} failed"))
    }
}

/// Two log-log panels side by side: seconds (converge, resync, baseline) and peak MiB, each
/// against the number of parents.
fn plot(rows: &[Row]) -> String {
    const W: f64 = 900.0;
    const H: f64 = 380.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let xs: Vec<f64> = rows.iter().map(|r| r.parents as f64).collect();
    type Series<'a> = (&'a str, &'a str, Vec<f64>);
    let time: Vec<Series> = vec![
        ("converge", "#d62728", rows.iter().map(|r| r.converge_s).collect()),
        ("resync", "#1f77b4", rows.iter().map(|r| r.resync_s).collect()),
        (
            "straight writes",
            "#7f7f7f",
            rows.iter().map(|r| r.baseline_s).collect(),
        ),
    ];
    let memory: Vec<Series> = vec![("peak RSS", "#2ca02c", rows.iter().map(|r| r.peak_mib).collect())];
    panel(&mut s, 60.0, "time (s) vs parents", &xs, &time);
    panel(&mut s, 510.0, "peak memory (MiB) vs parents", &xs, &memory);
    s.push_str("</svg>\n");
    s
}

/// One log-log panel at horizontal offset `x0`.
fn panel(s: &mut String, x0: f64, title: &str, xs: &[f64], series: &[(&str, &str, Vec<f64>)]) {
    const PW: f64 = 360.0;
    const PH: f64 = 260.0;
    const Y0: f64 = 50.0;
    let positive = |v: &f64| *v > 0.0;
    let all_y: Vec<f64> = series
        .iter()
        .flat_map(|(_, _, ys)| ys.iter().copied())
        .filter(positive)
        .collect();
    let decades = |vals: &[f64]| {
        let lo = vals.iter().copied().fold(f64::INFINITY, f64::min).log10().floor();
        let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max).log10().ceil();
        if lo.is_finite() && hi.is_finite() {
            (lo, hi.max(lo + 1.0))
        } else {
            (0.0, 1.0)
        }
    };
    let (xlo, xhi) = decades(xs);
    let (ylo, yhi) = decades(&all_y);
    let px = |x: f64| x0 + (x.log10() - xlo) / (xhi - xlo) * PW;
    let py = |y: f64| Y0 + PH - (y.log10() - ylo) / (yhi - ylo) * PH;
    let _ = writeln!(
        s,
        r#"<text x="{}" y="30" font-size="14" text-anchor="middle">{title}</text>"#,
        x0 + PW / 2.0
    );
    let _ = writeln!(
        s,
        r#"<rect x="{x0}" y="{Y0}" width="{PW}" height="{PH}" fill="none" stroke="black"/>"#
    );
    for d in (xlo as i32)..=(xhi as i32) {
        let x = px(10f64.powi(d));
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{Y0}" x2="{x:.1}" y2="{}" stroke="#ddd"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
            Y0 + PH,
            Y0 + PH + 16.0,
            10f64.powi(d)
        );
    }
    for d in (ylo as i32)..=(yhi as i32) {
        let y = py(10f64.powi(d));
        let _ = writeln!(
            s,
            r##"<line x1="{x0}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            x0 + PW,
            x0 - 4.0,
            y + 4.0,
            10f64.powi(d)
        );
    }
    for (i, (name, color, ys)) in series.iter().enumerate() {
        let points: Vec<String> = xs
            .iter()
            .zip(ys)
            .filter(|(_, y)| positive(y))
            .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            points.join(" ")
        );
        for p in &points {
            let (cx, cy) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(s, r#"<circle cx="{cx}" cy="{cy}" r="3" fill="{color}"/>"#);
        }
        let ly = Y0 + PH + 36.0 + 14.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{x0}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="2"/><text x="{}" y="{}">{name}</text>"#,
            x0 + 20.0,
            x0 + 26.0,
            ly + 4.0
        );
    }
}
