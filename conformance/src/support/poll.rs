//! Bounded polling for effects that a real cluster produces asynchronously (garbage
//! collection, namespace deletion, CRD establishment). The memory backend finishes such work
//! at once, so the first probe succeeds there and no time passes.

use std::future::Future;
use std::time::Duration;

/// How long asynchronous controllers (garbage collector, namespace controller) get.
pub const CONTROLLER_DEADLINE: Duration = Duration::from_secs(60);
/// How long a freshly created CRD gets to be served.
pub const CRD_DEADLINE: Duration = Duration::from_secs(60);
/// How long a watch gets to deliver an event that must come.
pub const EVENT_DEADLINE: Duration = Duration::from_secs(20);
/// Pause between two probes.
const INTERVAL: Duration = Duration::from_millis(100);

/// Calls `probe` until it returns `Ok`, for at most `deadline`; on timeout fails with `what`
/// and the last probe's explanation.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut probe: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let start = tokio::time::Instant::now();
    loop {
        let last = match probe().await {
            Ok(value) => return Ok(value),
            Err(why) => why,
        };
        if start.elapsed() >= deadline {
            return Err(format!("{what}: not reached within {deadline:?} (last: {last})"));
        }
        tokio::time::sleep(INTERVAL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn succeeds_once_the_probe_does() {
        let mut calls = 0;
        let got = eventually("third call", Duration::from_secs(5), || {
            calls += 1;
            let n = calls;
            async move { if n >= 3 { Ok(n) } else { Err(format!("call {n}")) } }
        })
        .await;
        assert_eq!(got, Ok(3));
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_the_deadline_with_the_last_reason() {
        let got: Result<(), String> = eventually("never", Duration::from_secs(1), || async {
            Err("still no".to_string())
        })
        .await;
        let why = got.unwrap_err();
        assert!(
            why.starts_with("never: not reached") && why.contains("still no"),
            "{why}"
        );
    }
}
