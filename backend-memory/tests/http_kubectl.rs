//! kubectl against the memory API server: client-side and server-side apply, `get -o yaml`,
//! `get --watch`, the three patch types, `scale`, dry-run, delete, a custom resource, and the
//! `create` generators, which send protobuf.
//! kubectl is `/usr/bin/kubectl` (or `$KUBECTL`); the test fails when it is missing.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use kube::ResourceExt;
use kube::api::{Api, PostParams};
use operator_runtime_memory::MemoryStore;

fn kubectl_path() -> PathBuf {
    let path = std::env::var_os("KUBECTL").map_or_else(|| PathBuf::from("/usr/bin/kubectl"), PathBuf::from);
    assert!(path.exists(), "kubectl not found at {} (set KUBECTL)", path.display());
    path
}

/// Runs kubectl with `stdin`; returns (success, stdout, stderr).
fn kubectl(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(kubectl_path())
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run kubectl: {e}"));
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes())
            .unwrap_or_else(|e| panic!("kubectl stdin: {e}"));
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("kubectl: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs kubectl and fails the test unless it succeeds; returns stdout.
fn ok(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let (success, stdout, stderr) = kubectl(kubeconfig, args, stdin);
    assert!(success, "kubectl {args:?} failed:\n{stdout}\n{stderr}");
    stdout
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: IMAGE
        ports:
        - containerPort: 80
        env:
        - {name: A, value: \"1\"}
";

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_works_against_the_memory_api_server() -> Result<(), Box<dyn std::error::Error>> {
    let server = operator_runtime_memory::http::start(MemoryStore::new()).await?;
    let client = server.client();
    let kc = server.kubeconfig().to_path_buf();
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());

    let run = {
        let kc = kc.clone();
        move |args: Vec<&'static str>, stdin: Option<String>| {
            let kc = kc.clone();
            tokio::task::spawn_blocking(move || ok(&kc, &args, stdin.as_deref()))
        }
    };

    // Client-side apply: create, then a three-way strategic merge patch.
    let out = run(vec!["apply", "-f", "-"], Some(DEPLOYMENT.replace("IMAGE", "nginx:1"))).await?;
    assert!(out.contains("deployment.apps/web created"), "{out}");
    let out = run(vec!["apply", "-f", "-"], Some(DEPLOYMENT.replace("IMAGE", "nginx:2"))).await?;
    assert!(out.contains("deployment.apps/web configured"), "{out}");
    let web = deployments.get("web").await?;
    let containers = web.spec.template.spec.as_ref().map(|s| s.containers.clone());
    assert_eq!(containers.as_ref().map(Vec::len), Some(1));
    assert_eq!(containers.and_then(|c| c[0].image.clone()).as_deref(), Some("nginx:2"));
    assert!(
        web.annotations()
            .contains_key("kubectl.kubernetes.io/last-applied-configuration")
    );

    // get -o yaml.
    let yaml = run(vec!["get", "deployment", "web", "-o", "yaml"], None).await?;
    assert!(
        yaml.contains("name: web") && yaml.contains("image: nginx:2") && yaml.contains("resourceVersion:"),
        "{yaml}"
    );
    // The server prints the Table: the columns are the API server's for the kind.
    let table = run(vec!["get", "deploy"], None).await?;
    assert!(
        table.starts_with("NAME   READY   UP-TO-DATE   AVAILABLE   AGE"),
        "{table}"
    );
    assert!(table.lines().any(|l| l.starts_with("web")), "{table}");
    let wide = run(vec!["get", "deploy", "web", "-o", "wide"], None).await?;
    assert!(
        wide.contains("CONTAINERS") && wide.contains("nginx:2") && wide.contains("app=web"),
        "{wide}"
    );

    // patch --type merge | json | strategic.
    run(
        vec![
            "patch",
            "deployment",
            "web",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"replicas":3}}"#,
        ],
        None,
    )
    .await?;
    assert_eq!(deployments.get("web").await?.spec.replicas, Some(3));
    run(
        vec![
            "patch",
            "deployment",
            "web",
            "--type",
            "json",
            "-p",
            r#"[{"op":"replace","path":"/spec/replicas","value":4}]"#,
        ],
        None,
    )
    .await?;
    assert_eq!(deployments.get("web").await?.spec.replicas, Some(4));
    run(
        vec![
            "patch",
            "deployment",
            "web",
            "--type",
            "strategic",
            "-p",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox"},{"name":"app","env":[{"name":"B","value":"2"}]}]}}}}"#,
        ],
        None,
    )
    .await?;
    let spec = deployments.get("web").await?.spec.template.spec.ok_or("no pod spec")?;
    let names: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    assert!(names.contains(&"app") && names.contains(&"side"), "{names:?}");
    let app = spec
        .containers
        .iter()
        .find(|c| c.name == "app")
        .ok_or("no app container")?;
    assert_eq!(app.env.as_ref().map(Vec::len), Some(2), "env merged by name");
    assert_eq!(app.image.as_deref(), Some("nginx:2"), "untouched fields kept");

    // scale goes through the scale subresource.
    let out = run(vec!["scale", "deployment", "web", "--replicas=5"], None).await?;
    assert!(out.contains("scaled"), "{out}");
    let scaled = deployments.get("web").await?;
    assert_eq!(scaled.spec.replicas, Some(5));
    // replicas now belongs to kubectl's scale write (manager from its User-Agent).
    let owner = scaled.managed_fields().iter().find(|m| {
        m.fields_v1
            .as_ref()
            .is_some_and(|f| f.0.get("f:spec").and_then(|s| s.get("f:replicas")).is_some())
    });
    assert_eq!(
        owner.map(|m| (m.manager.as_deref(), m.operation.as_deref())),
        Some((Some("kubectl"), Some("Update"))),
        "{:?}",
        scaled.managed_fields()
    );

    // Server-side apply, a conflict with another manager, and --force-conflicts.
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: fast}\n";
    let out = run(vec!["apply", "--server-side", "-f", "-"], Some(cm.to_owned())).await?;
    assert!(out.contains("serverside-applied"), "{out}");
    let settings = cms.get("settings").await?;
    let apply_managers: Vec<(String, String)> = settings
        .managed_fields()
        .iter()
        .map(|m| {
            (
                m.manager.clone().unwrap_or_default(),
                m.operation.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        apply_managers.contains(&("kubectl".to_owned(), "Apply".to_owned())),
        "{apply_managers:?}"
    );
    let other = cm.replace("fast", "slow");
    let (success, _, stderr) = {
        let kc = kc.clone();
        let other = other.clone();
        tokio::task::spawn_blocking(move || {
            kubectl(
                &kc,
                &["apply", "--server-side", "--field-manager", "other", "-f", "-"],
                Some(&other),
            )
        })
        .await?
    };
    assert!(!success && stderr.contains("conflict"), "{stderr}");
    run(
        vec![
            "apply",
            "--server-side",
            "--field-manager",
            "other",
            "--force-conflicts",
            "-f",
            "-",
        ],
        Some(other),
    )
    .await?;
    assert_eq!(
        cms.get("settings")
            .await?
            .data
            .and_then(|d| d.get("mode").cloned())
            .as_deref(),
        Some("slow")
    );

    // Server-side dry run: nothing is stored.
    let dry = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\ndata: {a: b}\n";
    run(vec!["apply", "--dry-run=server", "-f", "-"], Some(dry.to_owned())).await?;
    assert!(cms.get_opt("dry").await?.is_none());

    // get --watch: the initial state, then a change made by another client.
    let (mut watch, rx) = watch_lines(&kc, &["get", "configmaps", "--watch", "-o", "name"])?;
    let first = rx.recv_timeout(Duration::from_secs(10))?;
    assert_eq!(first, "configmap/settings");
    let mut late = ConfigMap::default();
    late.metadata.name = Some("late".to_owned());
    cms.create(&PostParams::default(), &late).await?;
    let next = rx.recv_timeout(Duration::from_secs(10))?;
    assert_eq!(next, "configmap/late");
    watch.kill()?;
    let _ = watch.wait();

    // get --watch with the default output: every event is a Table row under the same columns
    // (the server sends the column definitions with the first event only).
    let (mut watch, rx) = watch_lines(&kc, &["get", "configmaps", "--watch"])?;
    let header = rx.recv_timeout(Duration::from_secs(10))?;
    assert!(header.split_whitespace().eq(["NAME", "DATA", "AGE"]), "{header}");
    // The current objects (late, settings), then the new one, each with its DATA count.
    let mut later = ConfigMap::default();
    later.metadata.name = Some("later".to_owned());
    later.data = Some([("a".to_owned(), "1".to_owned()), ("b".to_owned(), "2".to_owned())].into());
    let mut rows = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !rows.iter().any(|r: &String| r.starts_with("later")) && std::time::Instant::now() < deadline {
        let row = rx.recv_timeout(Duration::from_secs(10))?;
        if row.starts_with("settings") {
            cms.create(&PostParams::default(), &later).await?;
        }
        rows.push(row);
    }
    watch.kill()?;
    let _ = watch.wait();
    let later_row = rows
        .iter()
        .find(|r| r.starts_with("later"))
        .ok_or(format!("{rows:?}"))?;
    assert_eq!(later_row.split_whitespace().nth(1), Some("2"), "{rows:?}");
    assert!(
        !rows.iter().any(|r| r.starts_with("NAME")),
        "headers repeated: {rows:?}"
    );

    // A CRD applied with kubectl becomes a served kind, short name included.
    run(vec!["apply", "-f", "-"], Some(CRD.to_owned())).await?;
    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3, extra: dropped}\n";
    run(vec!["apply", "-f", "-"], Some(widget.to_owned())).await?;
    let out = run(vec!["get", "wd", "w1", "-o", "jsonpath={.spec}"], None).await?;
    assert!(
        out.contains("\"size\":3") && !out.contains("extra"),
        "pruned by the schema: {out}"
    );
    let (success, _, stderr) = {
        let kc = kc.clone();
        tokio::task::spawn_blocking(move || {
            kubectl(
                &kc,
                &[
                    "patch",
                    "widget",
                    "w1",
                    "--type",
                    "strategic",
                    "-p",
                    r#"{"spec":{"size":4}}"#,
                ],
                None,
            )
        })
        .await?
    };
    assert!(
        !success && (stderr.contains("UnsupportedMediaType") || stderr.contains("unknown format")),
        "strategic merge of a custom resource is refused: {stderr}"
    );

    // Server-side apply of the status subresource: the status is written under its own
    // entry (`subresource: status`), the spec in the configuration is ignored.
    let status =
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 9}\nstatus: {phase: Ready}\n";
    let out = run(
        vec![
            "apply",
            "--server-side",
            "--subresource=status",
            "--field-manager=st",
            "-f",
            "-",
        ],
        Some(status.to_owned()),
    )
    .await?;
    assert!(out.contains("serverside-applied"), "{out}");
    let out = run(
        vec![
            "get",
            "widget",
            "w1",
            "--show-managed-fields",
            "-o",
            r#"jsonpath={.spec.size} {.status.phase} {.metadata.managedFields[?(@.manager=="st")].subresource}"#,
        ],
        None,
    )
    .await?;
    assert_eq!(out.trim(), "3 Ready status", "spec, status and the status entry");

    // Discovery is aggregated: two requests (`/api`, `/apis`) instead of one per group-version.
    let cache = tempfile::tempdir()?;
    let cache_dir = cache.path().to_string_lossy().into_owned();
    let (success, stdout, stderr) = {
        let kc = kc.clone();
        tokio::task::spawn_blocking(move || kubectl(&kc, &["api-resources", "--cache-dir", &cache_dir, "-v=6"], None))
            .await?
    };
    assert!(
        success && stdout.contains("deployments") && stdout.contains("widgets"),
        "{stdout}\n{stderr}"
    );
    let gets: Vec<&str> = stderr.lines().filter(|l| l.contains(" GET ")).collect();
    assert_eq!(gets.len(), 2, "discovery requests: {gets:#?}");

    // explain: built-in field docs, and a custom resource's schema.
    let out = run(
        vec!["explain", "deployment.spec.template.spec.containers.resources"],
        None,
    )
    .await?;
    assert!(
        out.contains("FIELD: resources <ResourceRequirements>") && out.contains("limits"),
        "{out}"
    );
    let out = run(vec!["get", "wd"], None).await?;
    assert!(out.starts_with("NAME   AGE") && out.contains("w1"), "{out}");
    let out = run(vec!["explain", "widget.spec"], None).await?;
    assert!(out.contains("KIND:       Widget") && out.contains("size"), "{out}");

    // events: what an operator recorded, listed and filtered by the object it is about.
    let event = "apiVersion: v1\nkind: Event\nmetadata: {name: web.1}\n\
        involvedObject: {apiVersion: apps/v1, kind: Deployment, name: web, namespace: default}\n\
        reason: Scaled\nmessage: scaled to 2\ntype: Normal\ncount: 1\n\
        firstTimestamp: \"2026-01-01T00:00:00Z\"\nlastTimestamp: \"2026-01-01T00:00:00Z\"\n";
    run(vec!["apply", "-f", "-"], Some(event.to_owned())).await?;
    let out = run(vec!["events", "--for", "deployment/web"], None).await?;
    assert!(
        out.lines()
            .any(|l| l.contains("Scaled") && l.contains("Deployment/web") && l.contains("scaled to 2")),
        "{out}"
    );

    // delete, and the errors kubectl prints for a missing object.
    let out = run(vec!["delete", "configmap", "settings"], None).await?;
    assert!(out.contains("configmap \"settings\" deleted"), "{out}");
    assert!(cms.get_opt("settings").await?.is_none());
    let (success, _, stderr) = {
        let kc = kc.clone();
        tokio::task::spawn_blocking(move || kubectl(&kc, &["get", "configmap", "settings"], None)).await?
    };
    assert!(!success && stderr.contains("NotFound"), "{stderr}");
    run(vec!["delete", "-f", "-"], Some(DEPLOYMENT.replace("IMAGE", "nginx:2"))).await?;
    assert!(deployments.get_opt("web").await?.is_none());
    Ok(())
}

/// kubectl's `create` generators send protobuf: the kinds the server decodes are stored as
/// JSON would have stored them; another kind is refused with a 415 that names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_create_generators_send_protobuf_the_server_decodes() -> Result<(), Box<dyn std::error::Error>> {
    let server = operator_runtime_memory::http::start(MemoryStore::new()).await?;
    let client = server.client();
    let kc = server.kubeconfig().to_path_buf();
    let generate = move |args: Vec<&'static str>| {
        let kc = kc.clone();
        tokio::task::spawn_blocking(move || kubectl(&kc, &args, None))
    };
    for args in [
        vec!["create", "namespace", "gen"],
        vec![
            "create",
            "configmap",
            "c",
            "-n",
            "gen",
            "--from-literal=a=1",
            "--from-literal=b=2",
        ],
        vec![
            "create",
            "secret",
            "generic",
            "s",
            "-n",
            "gen",
            "--from-literal=p=hunter2",
        ],
        vec!["create", "serviceaccount", "sa", "-n", "gen"],
    ] {
        let (success, stdout, stderr) = generate(args.clone()).await?;
        assert!(
            success && stdout.contains("created"),
            "kubectl {args:?}:\n{stdout}\n{stderr}"
        );
    }
    let cm = Api::<ConfigMap>::namespaced(client.clone(), "gen").get("c").await?;
    let data = cm.data.unwrap_or_default();
    assert_eq!(
        (data.get("a").map(String::as_str), data.get("b").map(String::as_str)),
        (Some("1"), Some("2"))
    );
    let secret = Api::<Secret>::namespaced(client.clone(), "gen").get("s").await?;
    assert_eq!(secret.type_.as_deref(), Some("Opaque"));
    let password = secret.data.unwrap_or_default().remove("p").map(|b| b.0);
    assert_eq!(password.as_deref(), Some(&b"hunter2"[..]));
    Api::<ServiceAccount>::namespaced(client.clone(), "gen")
        .get("sa")
        .await?;

    // Every other generator: the object kubectl sends as protobuf is stored as the same
    // object sent as JSON (`--dry-run=client -o json`, then `create -f -`) is, in another
    // namespace.
    generate(vec!["create", "namespace", "viajson"]).await?;
    let generators: [(&str, Vec<&'static str>); 8] = [
        (
            "deployment/d",
            vec!["deployment", "d", "--image=nginx", "--replicas=0", "--port=80"],
        ),
        ("service/svc", vec!["service", "clusterip", "svc", "--tcp=80:8080"]),
        ("job/j", vec!["job", "j", "--image=busybox", "--", "echo", "hi"]),
        (
            "cronjob/cj",
            vec!["cronjob", "cj", "--image=busybox", "--schedule=*/5 * * * *"],
        ),
        ("role/r", vec!["role", "r", "--verb=get,list", "--resource=pods"]),
        ("rolebinding/rb", vec!["rolebinding", "rb", "--role=r", "--user=u"]),
        (
            "poddisruptionbudget/pdb",
            vec!["poddisruptionbudget", "pdb", "--selector=app=x", "--min-available=1"],
        ),
        ("ingress/ing", vec!["ingress", "ing", "--rule=foo.com/bar=svc1:8080"]),
    ];
    let kc = server.kubeconfig().to_path_buf();
    for (object, args) in generators {
        let mut protobuf: Vec<&str> = vec!["create", "-n", "gen"];
        protobuf.extend(args.iter().copied());
        let (success, stdout, stderr) = generate(protobuf.clone()).await?;
        assert!(success, "kubectl {protobuf:?}:\n{stdout}\n{stderr}");
        let mut dry: Vec<&str> = vec!["create", "-n", "viajson", "--dry-run=client", "-o", "json"];
        dry.extend(args.iter().copied());
        let (kc, object) = (kc.clone(), object.to_owned());
        let (via_protobuf, via_json) = tokio::task::spawn_blocking(move || {
            let (_, json, _) = kubectl(&kc, &dry, None);
            let (success, stdout, stderr) = kubectl(&kc, &["create", "-f", "-"], Some(&json));
            assert!(success, "create -f of {json}:\n{stdout}\n{stderr}");
            let read = |ns: &str| {
                let (_, out, _) = kubectl(
                    &kc,
                    &["get", &object, "-n", ns, "-o", "json", "--show-managed-fields"],
                    None,
                );
                comparable(&out)
            };
            (read("gen"), read("viajson"))
        })
        .await?;
        assert_eq!(
            via_protobuf, via_json,
            "{args:?}: protobuf and JSON bodies store different objects"
        );
    }
    Ok(())
}

/// A running kubectl (`get --watch`, ...) and the lines it prints, as they come.
fn watch_lines(
    kubeconfig: &Path,
    args: &[&str],
) -> Result<(std::process::Child, mpsc::Receiver<String>), Box<dyn std::error::Error>> {
    let mut child = Command::new(kubectl_path())
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Ok((child, rx))
}

/// An object as `kubectl get -o json` prints it, without what differs between two creates of
/// the same body (namespace, uid, resourceVersion, timestamps, allocated cluster IPs).
fn comparable(json: &str) -> serde_json::Value {
    let mut value: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let uid = value["metadata"]["uid"].as_str().unwrap_or("no uid").to_owned();
    let text = value.to_string().replace(&uid, "UID");
    value = serde_json::from_str(&text).unwrap_or_default();
    if let Some(meta) = value["metadata"].as_object_mut() {
        for field in ["namespace", "resourceVersion", "creationTimestamp", "uid"] {
            meta.remove(field);
        }
        for entry in meta
            .get_mut("managedFields")
            .and_then(|m| m.as_array_mut())
            .into_iter()
            .flatten()
        {
            if let Some(entry) = entry.as_object_mut() {
                entry.remove("time");
            }
        }
    }
    if let Some(spec) = value["spec"].as_object_mut() {
        spec.remove("clusterIP");
        spec.remove("clusterIPs");
    }
    value
}
