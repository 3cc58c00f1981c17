//! scratch
use operator_runtime_core::store::{WatchParams, WriteParams};
use operator_runtime_core::{Object, ObjectStore, TypeRef};
use operator_runtime_memory::MemoryStore;
use serde_json::json;
use std::time::Instant;

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let n = 50_000;
        let store = MemoryStore::new();
        let t = TypeRef::new("v1", "ConfigMap");
        let _watch = store
            .watch(
                &t,
                &WatchParams {
                    resource_version: Some("1".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let objs: Vec<Object> = (0..n)
            .map(|i| {
                let mut o = Object::new(&t, Some("default"), &format!("cm-{i}"));
                o.metadata.labels =
                    Some([("app".to_string(), "x".to_string()), ("idx".to_string(), i.to_string())].into());
                o.with(
                    "data",
                    json!({"a": "x".repeat(200), "b": "y".repeat(300), "c": i.to_string()}),
                )
            })
            .collect();
        let w = WriteParams::default();
        let start = Instant::now();
        let mut created = Vec::with_capacity(n);
        for o in &objs {
            created.push(store.create(o, &w).await.unwrap());
        }
        let el = start.elapsed();
        println!("create: {:.0}/s", n as f64 / el.as_secs_f64());
        let start = Instant::now();
        for c in &created {
            let mut o = Object::clone(c);
            o.body.insert("data".into(), json!({"a": "z"}));
            store.replace(&o, &w).await.unwrap();
        }
        let el = start.elapsed();
        println!("replace: {:.0}/s", n as f64 / el.as_secs_f64());
        let refs: Vec<_> = created.iter().map(|c| c.object_ref()).collect();
        let start = Instant::now();
        for r in &refs {
            store.get(r).await.unwrap();
        }
        let el = start.elapsed();
        println!("get: {:.0}/s", n as f64 / el.as_secs_f64());
    });
}
