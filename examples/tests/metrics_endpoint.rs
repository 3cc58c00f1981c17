//! The example's opt-in HTTP endpoint over a real loopback socket: `/metrics` serves the
//! series, `/healthz` is live, `/readyz` follows the readiness flag, the rest is 404 / 405.

use std::time::Duration;

use operator_runtime_core::metrics::{Metrics, ReconcileResult};
use operator_runtime_kube::runtime::health::{OPENMETRICS, Probes, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One HTTP/1.1 request; returns the status code, the content type and the body.
async fn request(addr: std::net::SocketAddr, method: &str, path: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let req = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| l.strip_prefix("content-type: "))
        .unwrap_or_default()
        .to_owned();
    (status, content_type, body.to_owned())
}

#[tokio::test]
async fn serves_metrics_health_and_readiness() {
    let metrics = Metrics::new();
    metrics.record_reconcile("datacluster", ReconcileResult::Success, Duration::from_millis(20));
    metrics.record_store_request("patch", "StatefulSet");
    metrics.record_write_skipped("ConfigMap");
    metrics.record_reconcile_reused("everything");
    let probes = Probes::new(metrics);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, probes.clone(), async {
        let _ = stopped.await;
    }));

    let (status, content_type, body) = request(addr, "GET", "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(content_type, OPENMETRICS);
    for series in [
        r#"operator_runtime_reconciles_total{controller="datacluster",result="success"} 1"#,
        r#"operator_runtime_reconcile_duration_seconds_count{controller="datacluster"} 1"#,
        r#"operator_runtime_store_requests_total{verb="patch",kind="StatefulSet"} 1"#,
        r#"operator_runtime_writes_skipped_total{kind="ConfigMap"} 1"#,
        r#"operator_runtime_reconciles_reused_total{reused="everything"} 1"#,
        "# EOF",
    ] {
        assert!(body.contains(series), "missing {series} in\n{body}");
    }

    assert_eq!(request(addr, "GET", "/healthz").await.0, 200);
    assert_eq!(request(addr, "GET", "/readyz").await.0, 503);
    probes.set_ready();
    assert_eq!(request(addr, "GET", "/readyz").await.0, 200);
    assert_eq!(request(addr, "GET", "/nope").await.0, 404);
    assert_eq!(request(addr, "POST", "/metrics").await.0, 405);

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
