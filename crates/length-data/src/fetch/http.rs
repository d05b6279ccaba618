//! Downloading one URL into a file with ureq (HTTPS through rustls), with a progress bar.
//!
//! A dead, stalled or crawling host is given up on (the low-speed limit and the deadline of
//! [`FetchOptions`]), and a body larger than the cap is cut off; see `options.rs`. Loopback
//! addresses are never sent through a proxy.

use super::options::FetchOptions;
use super::progress::Progress;
use crate::error::FetchProblem;
use std::fs::File;
use std::io::{self, Read};
use std::time::{Duration, Instant};
use ureq::Agent;

/// Downloads `url`, a file of `size` decompressed bytes, into `out`; returns the number of bytes
/// written.
pub(crate) fn download(
    url: &str,
    out: &mut File,
    size: u64,
    options: &FetchOptions,
    progress: Progress,
    label: &str,
) -> Result<u64, FetchProblem> {
    let deadline = options.deadline_for(size);
    let cap = FetchOptions::body_cap(size);
    let started = Instant::now();
    let response =
        agent_for(url, options, deadline)
            .get(url)
            .call()
            .map_err(|error| match error {
                ureq::Error::StatusCode(404) => FetchProblem::NotFound,
                ureq::Error::StatusCode(code) => {
                    FetchProblem::Transfer(format!("HTTP status {code}"))
                }
                ureq::Error::Timeout(_) if started.elapsed() >= deadline => {
                    FetchProblem::Transfer(deadline_message(deadline))
                }
                other => FetchProblem::Transfer(other.to_string()),
            })?;
    let bar = progress.bar(label, response.body().content_length());
    let body = response
        .into_body()
        .into_with_config()
        .limit(u64::MAX) // the cap is checked below, with a message that says why
        .reader();
    let mut watched = Watchdog::new(body.take(cap + 1), options, started, deadline);
    let copied = io::copy(&mut watched, &mut bar.wrap_write(out));
    bar.finish_and_clear();
    match copied {
        Ok(bytes) if bytes > cap => Err(FetchProblem::Transfer(format!(
            "gave up: the body grew beyond {cap} bytes, twice the file's expected size of {size} \
             bytes plus 1 MiB"
        ))),
        Ok(bytes) => Ok(bytes),
        Err(error) => Err(FetchProblem::Transfer(match watched.verdict {
            Some(verdict) => verdict,
            None => format!("download interrupted: {error}"),
        })),
    }
}

fn deadline_message(deadline: Duration) -> String {
    format!(
        "gave up: the file was not complete {} s after the request, its deadline \
         (set another with {})",
        deadline.as_secs_f64(),
        super::options::DEADLINE_ENV
    )
}

/// Reads through to the body, and stops the transfer with an error when it crawls below the
/// low-speed limit or passes the deadline; `verdict` then says which.
struct Watchdog<R> {
    body: R,
    started: Instant,
    deadline: Duration,
    min_bytes_per_second: u64,
    window: Duration,
    window_started: Instant,
    window_bytes: u64,
    verdict: Option<String>,
}

impl<R: Read> Watchdog<R> {
    fn new(body: R, options: &FetchOptions, started: Instant, deadline: Duration) -> Self {
        Watchdog {
            body,
            started,
            deadline,
            min_bytes_per_second: options.min_bytes_per_second,
            window: options.low_speed_window,
            window_started: Instant::now(),
            window_bytes: 0,
            verdict: None,
        }
    }

    /// Why the transfer must stop now, if it must: past the deadline, or a whole window too slow.
    fn check(&mut self, now: Instant) -> Option<String> {
        if now.duration_since(self.started) >= self.deadline {
            return Some(deadline_message(self.deadline));
        }
        let spent = now.duration_since(self.window_started);
        if spent >= self.window {
            let rate = self.window_bytes as f64 / spent.as_secs_f64();
            if rate < self.min_bytes_per_second as f64 {
                return Some(format!(
                    "gave up: {} bytes in {:.1} s is {rate:.0} bytes/s, below the low-speed \
                     limit of {} bytes/s averaged over {} s (set others with {} and {})",
                    self.window_bytes,
                    spent.as_secs_f64(),
                    self.min_bytes_per_second,
                    self.window.as_secs_f64(),
                    super::options::MIN_SPEED_ENV,
                    super::options::SPEED_WINDOW_ENV,
                ));
            }
            self.window_started = now;
            self.window_bytes = 0;
        }
        None
    }
}

impl<R: Read> Read for Watchdog<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.body.read(buf);
        if let Ok(n) = result {
            self.window_bytes += n as u64;
        }
        // A read that failed after waiting (ureq's per-read timeout is one window) is judged too.
        if let Some(verdict) = self.check(Instant::now()) {
            self.verdict = Some(verdict.clone());
            return Err(io::Error::new(io::ErrorKind::TimedOut, verdict));
        }
        result
    }
}

/// An HTTP client with timeouts: the whole call within the deadline, each read within the
/// low-speed window; without a proxy for loopback hosts.
fn agent_for(url: &str, options: &FetchOptions, deadline: Duration) -> Agent {
    let window = options.low_speed_window;
    let mut config = Agent::config_builder()
        .timeout_global(Some(deadline))
        .timeout_connect(Some(Duration::from_secs(20).min(deadline)))
        .timeout_recv_response(Some(Duration::from_secs(60).min(deadline)))
        .timeout_per_read(Some(window.max(Duration::from_millis(100))))
        .user_agent(concat!("length-data/", env!("CARGO_PKG_VERSION")));
    if is_loopback(url) {
        config = config.proxy(None);
    }
    config.build().into()
}

/// Whether the URL's host is this machine.
fn is_loopback(url: &str) -> bool {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_hosts_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:8080/mnist/"));
        assert!(is_loopback("http://localhost/x"));
        assert!(is_loopback("http://[::1]:99/x"));
        assert!(!is_loopback(
            "https://ossci-datasets.s3.amazonaws.com/mnist/"
        ));
        assert!(!is_loopback("http://10.0.0.1/"));
    }
}
