//! Shared by the runner tests: a scriptable object source, a probe operator that records
//! reconciles, and starting/stopping a controller in virtual time.
#![allow(dead_code, unused_imports)]

pub use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
pub use std::future::Future;
pub use std::sync::{Arc, Mutex};
pub use std::time::Duration;

pub use futures::StreamExt;
pub use futures::stream::BoxStream;
pub use operator_runtime_core::backoff::BackoffConfig;
pub use operator_runtime_core::controller::{
    Action, Change, Controller, ControllerConfig, ControllerError, ObjectSource, RunSummary,
};
pub use operator_runtime_core::metrics::{Metrics, ReconcileResult};
pub use operator_runtime_core::model::OwnerReference;
pub use operator_runtime_core::{Object, ObjectRef, TypeRef};
pub use tokio::sync::{mpsc, oneshot, watch};
pub use tokio::task::JoinHandle;
pub use tokio::time::{Instant, sleep};

pub fn parent_type() -> TypeRef {
    TypeRef::new("example.com/v1", "DataCluster")
}

pub fn cm_type() -> TypeRef {
    TypeRef::new("v1", "ConfigMap")
}

pub fn parent(name: &str) -> Object {
    let mut o = Object::new(&parent_type(), Some("ns"), name);
    o.metadata.uid = Some(format!("uid-{name}"));
    o
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// An in-memory source the test edits by hand; changes go out through a channel.
#[derive(Default)]
pub struct TestSource {
    pub objects: Mutex<BTreeMap<ObjectRef, Arc<Object>>>,
    pub sender: Mutex<Option<mpsc::UnboundedSender<Change>>>,
    pub synced: Mutex<Option<watch::Sender<bool>>>,
}

impl TestSource {
    pub fn new() -> Arc<Self> {
        let (tx, _) = watch::channel(false);
        let source = Self::default();
        *source.synced.lock().unwrap() = Some(tx);
        Arc::new(source)
    }

    pub fn apply(&self, object: Object) {
        self.send(object, None);
    }

    /// Sends `object` as a modification of `previous` (a watch's Modified event).
    pub fn modify(&self, object: Object, previous: Object) {
        self.send(object, Some(previous));
    }

    fn send(&self, object: Object, previous: Option<Object>) {
        let object = Arc::new(object);
        self.objects
            .lock()
            .unwrap()
            .insert(object.object_ref(), Arc::clone(&object));
        if let Some(tx) = self.sender.lock().unwrap().as_ref() {
            tx.send(Change::Applied {
                object,
                previous: previous.map(Arc::new),
            })
            .unwrap();
        }
    }

    pub fn delete(&self, key: &ObjectRef) {
        let removed = self.objects.lock().unwrap().remove(key).unwrap();
        if let Some(tx) = self.sender.lock().unwrap().as_ref() {
            tx.send(Change::Deleted(removed)).unwrap();
        }
    }

    pub fn mark_synced(&self) {
        self.synced.lock().unwrap().as_ref().unwrap().send_replace(true);
    }
}

impl ObjectSource for TestSource {
    type Error = std::convert::Infallible;

    fn changes(&self, _kinds: &[TypeRef]) -> Result<BoxStream<'static, Change>, Self::Error> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.sender.lock().unwrap() = Some(tx);
        Ok(futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) }).boxed())
    }

    fn wait_synced(&self) -> impl Future<Output = ()> + Send {
        let mut rx = self.synced.lock().unwrap().as_ref().unwrap().subscribe();
        async move {
            let _ = rx.wait_for(|synced| *synced).await;
        }
    }

    fn get(&self, key: &ObjectRef) -> Option<Arc<Object>> {
        self.objects.lock().unwrap().get(key).cloned()
    }

    fn list(&self, type_ref: &TypeRef) -> Vec<Arc<Object>> {
        let objects = self.objects.lock().unwrap();
        objects
            .values()
            .filter(|o| o.type_ref() == *type_ref)
            .cloned()
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("scripted failure")]
pub struct Scripted;

/// What the reconcile function saw: who ran when, and how many ran together.
pub struct Probe {
    pub t0: Instant,
    pub work: Mutex<Duration>,
    /// Scripted results per parent name, consumed in order; `Ok(await_change)` when empty.
    pub script: Mutex<HashMap<String, VecDeque<Result<Action, ()>>>>,
    pub starts: Mutex<Vec<(String, Duration)>>,
    pub running: Mutex<HashSet<String>>,
    pub overlaps: Mutex<Vec<String>>,
    pub max_running: Mutex<usize>,
}

impl Probe {
    pub fn new(work: Duration) -> Arc<Self> {
        Arc::new(Self {
            t0: Instant::now(),
            work: Mutex::new(work),
            script: Mutex::default(),
            starts: Mutex::default(),
            running: Mutex::default(),
            overlaps: Mutex::default(),
            max_running: Mutex::new(0),
        })
    }

    pub fn script(&self, name: &str, results: impl IntoIterator<Item = Result<Action, ()>>) {
        self.script
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_default()
            .extend(results);
    }

    /// Start offsets (whole virtual seconds) of the runs of `name`.
    pub fn starts_of(&self, name: &str) -> Vec<u64> {
        self.starts
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, at)| at.as_secs())
            .collect()
    }

    pub fn runs(&self) -> usize {
        self.starts.lock().unwrap().len()
    }

    pub async fn reconcile(self: Arc<Self>, object: Arc<Object>) -> Result<Action, Scripted> {
        let name = object.name().to_owned();
        self.starts.lock().unwrap().push((name.clone(), self.t0.elapsed()));
        {
            let mut running = self.running.lock().unwrap();
            if !running.insert(name.clone()) {
                self.overlaps.lock().unwrap().push(name.clone());
            }
            let mut max = self.max_running.lock().unwrap();
            *max = (*max).max(running.len());
        }
        let work = *self.work.lock().unwrap();
        sleep(work).await;
        self.running.lock().unwrap().remove(&name);
        let next = self.script.lock().unwrap().get_mut(&name).and_then(VecDeque::pop_front);
        next.unwrap_or(Ok(Action::await_change())).map_err(|()| Scripted)
    }
}

pub struct Running {
    pub stop: oneshot::Sender<()>,
    pub handle: JoinHandle<Result<RunSummary, ControllerError>>,
}

impl Running {
    pub async fn shutdown(self) -> RunSummary {
        self.stop.send(()).unwrap();
        self.handle.await.unwrap().unwrap()
    }
}

pub fn start(controller: Controller<TestSource>, probe: &Arc<Probe>) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(controller.run(
        |object, probe: Arc<Probe>| probe.reconcile(object),
        Arc::clone(probe),
        async move {
            let _ = stopped.await;
        },
    ));
    Running { stop, handle }
}

pub fn config() -> ControllerConfig {
    ControllerConfig::default()
        .with_resync(None)
        .unwrap()
        .with_backoff(BackoffConfig::new(secs(1), secs(60), 0.0).unwrap())
}
