//! Downloading one URL into a file with ureq (HTTPS through rustls), with a progress bar.
//!
//! Timeouts keep a dead or stalled host from hanging the caller; loopback addresses are never
//! sent through a proxy.

use super::progress::Progress;
use crate::error::FetchProblem;
use std::fs::File;
use std::io;
use std::time::Duration;
use ureq::Agent;

/// No data set file comes close to this many bytes; a larger body is refused.
const MAX_DOWNLOAD_BYTES: u64 = 512 * 1024 * 1024;

/// Downloads `url` into `out`; returns the number of bytes written.
pub(crate) fn download(
    url: &str,
    out: &mut File,
    progress: Progress,
    label: &str,
) -> Result<u64, FetchProblem> {
    let response = agent_for(url)
        .get(url)
        .call()
        .map_err(|error| match error {
            ureq::Error::StatusCode(404) => FetchProblem::NotFound,
            ureq::Error::StatusCode(code) => FetchProblem::Transfer(format!("HTTP status {code}")),
            other => FetchProblem::Transfer(other.to_string()),
        })?;
    let bar = progress.bar(label, response.body().content_length());
    let mut body = response
        .into_body()
        .into_with_config()
        .limit(MAX_DOWNLOAD_BYTES)
        .reader();
    let copied = io::copy(&mut body, &mut bar.wrap_write(out));
    bar.finish_and_clear();
    copied.map_err(|error| FetchProblem::Transfer(format!("download interrupted: {error}")))
}

/// An HTTP client with timeouts; without a proxy for loopback hosts.
fn agent_for(url: &str) -> Agent {
    let mut config = Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)))
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
