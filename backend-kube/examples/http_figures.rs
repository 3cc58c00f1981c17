//! Throughput through `kube::Client` on the memory API server and on the real kube-apiserver of
//! the test control plane, in the same run: sequential gets, lists of 100 objects and
//! server-side applies.
//!
//! `cargo run --release -p operator-runtime-kube --example http_figures [-- --memory-only]`

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use operator_runtime_kube::testenv::TestEnv;
use operator_runtime_memory::MemoryStore;
use serde_json::json;

const GETS: u32 = 500;
const LISTS: u32 = 100;
const APPLIES: u32 = 300;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn rate(n: u32, elapsed: Duration) -> f64 {
    f64::from(n) / elapsed.as_secs_f64()
}

async fn measure(client: Client, ns: &str) -> Result<[f64; 3], Error> {
    let cms: Api<ConfigMap> = Api::namespaced(client, ns);
    for i in 0..100 {
        let mut cm = ConfigMap::default();
        cm.metadata.name = Some(format!("cm-{i:03}"));
        cm.data = Some([("k".to_owned(), i.to_string())].into());
        cms.create(&PostParams::default(), &cm).await?;
    }
    let start = Instant::now();
    for i in 0..GETS {
        cms.get(&format!("cm-{:03}", i % 100)).await?;
    }
    let gets = rate(GETS, start.elapsed());
    let start = Instant::now();
    for _ in 0..LISTS {
        let list = cms.list(&ListParams::default()).await?;
        assert_eq!(list.items.len(), 100);
    }
    let lists = rate(LISTS, start.elapsed());
    let ssa = PatchParams::apply("figures").force();
    let start = Instant::now();
    for i in 0..APPLIES {
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"n": i.to_string()}});
        cms.patch("applied", &ssa, &Patch::Apply(&body)).await?;
    }
    let applies = rate(APPLIES, start.elapsed());
    Ok([gets, lists, applies])
}

fn print(backend: &str, figures: [f64; 3]) {
    println!(
        "{backend:<28} get {:>8.0}/s   list(100) {:>7.0}/s   apply {:>7.0}/s",
        figures[0], figures[1], figures[2]
    );
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let memory_only = std::env::args().any(|a| a == "--memory-only");
    let server = operator_runtime_memory::http::start(MemoryStore::new()).await?;
    print("memory API server (HTTP)", measure(server.client(), "default").await?);
    if !memory_only {
        let env = TestEnv::shared()?;
        let client = env.client()?;
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let mut ns = Namespace::default();
        let name = format!("figures-{}", std::process::id());
        ns.metadata.name = Some(name.clone());
        namespaces.create(&PostParams::default(), &ns).await?;
        print("kube-apiserver (testenv)", measure(client, &name).await?);
    }
    Ok(())
}
