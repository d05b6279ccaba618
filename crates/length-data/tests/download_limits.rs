//! Downloads that give up: a crawling host (the low-speed limit), a silent one (one window), a
//! transfer past its deadline, and an endless body (cut at the size cap); each within its limit,
//! with a message that says which limit acted, and nothing left behind. All against servers on
//! 127.0.0.1 (see `http_server`), with limits of a second or two set through `FetchOptions`.

mod http_server;
mod tiny_set;

use http_server::{Reply, Server};
use length_data::fetch::{self, FetchOptions, FetchPlan, Progress, Source};
use std::time::{Duration, Instant};
use tiny_set::*;

/// The tiny set's plan for its images file alone, from `server`, with `options`.
fn images_only(set: &TinySet, server: &Server, options: FetchOptions) -> FetchPlan {
    let mut plan = set
        .plan
        .clone()
        .with_sources(vec![Source::Url(server.base_url.clone())])
        .with_options(options);
    plan.files.truncate(1);
    plan
}

#[test]
fn a_crawling_host_is_given_up_at_the_low_speed_limit() {
    let set = tiny_set();
    // One byte every 200 ms: 5 bytes/s, far below 1 KiB/s.
    let server = Server::start(vec![(
        IMAGES.to_string(),
        Reply::Trickle {
            body: set.images_gz.clone(),
            chunk: 1,
            every: Duration::from_millis(200),
        },
    )]);
    let options = FetchOptions {
        min_bytes_per_second: 1024,
        low_speed_window: Duration::from_secs(1),
        deadline: None, // derived: a minute and more, so the low-speed limit must act
    };
    let plan = images_only(&set, &server, options);
    let dir = tempfile::tempdir().unwrap();

    let started = Instant::now();
    let error = fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap_err();
    let took = started.elapsed();
    let problem = only_problem(error);
    assert!(
        problem.contains("below the low-speed limit of 1024 bytes/s"),
        "{problem}"
    );
    assert!(took < Duration::from_secs(4), "gave up only after {took:?}");
    assert_eq!(listing(&dir.path().join("tiny")), Vec::<String>::new());
}

#[test]
fn a_silent_host_is_given_up_after_one_window() {
    let set = tiny_set();
    // Announces the file, then sends nothing for 3 s.
    let server = Server::start(vec![(
        IMAGES.to_string(),
        Reply::Trickle {
            body: set.images_gz.clone(),
            chunk: set.images_gz.len(),
            every: Duration::from_secs(3),
        },
    )]);
    let options = FetchOptions {
        low_speed_window: Duration::from_secs(1),
        ..FetchOptions::default()
    };
    let plan = images_only(&set, &server, options);
    let dir = tempfile::tempdir().unwrap();

    let started = Instant::now();
    let problem = only_problem(fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap_err());
    assert!(problem.contains("0 bytes in"), "{problem}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(listing(&dir.path().join("tiny")), Vec::<String>::new());
}

#[test]
fn a_transfer_past_its_deadline_is_given_up() {
    let set = tiny_set();
    // 64 bytes every 20 ms (3.2 KB/s): above the low-speed limit, but the 1 s deadline comes
    // first (the file takes longer than that).
    let body: Vec<u8> = set.images_gz.iter().copied().cycle().take(10_000).collect();
    let server = Server::start(vec![(
        IMAGES.to_string(),
        Reply::Trickle {
            body,
            chunk: 64,
            every: Duration::from_millis(20),
        },
    )]);
    let options = FetchOptions {
        low_speed_window: Duration::from_secs(30),
        deadline: Some(Duration::from_secs(1)),
        ..FetchOptions::default()
    };
    let plan = images_only(&set, &server, options);
    let dir = tempfile::tempdir().unwrap();

    let started = Instant::now();
    let problem = only_problem(fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap_err());
    let took = started.elapsed();
    assert!(
        problem.contains("not complete 1 s after the request"),
        "{problem}"
    );
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(listing(&dir.path().join("tiny")), Vec::<String>::new());
}

#[test]
fn an_endless_body_is_cut_at_twice_the_size_plus_a_mebibyte() {
    let set = tiny_set();
    let server = Server::start(vec![(IMAGES.to_string(), Reply::Endless)]);
    let plan = images_only(&set, &server, FetchOptions::default());
    let size = plan.files[0].size;
    let dir = tempfile::tempdir().unwrap();

    let started = Instant::now();
    let problem = only_problem(fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap_err());
    let cap = 2 * size + 1024 * 1024;
    assert_eq!(FetchOptions::body_cap(size), cap);
    assert!(
        problem.contains(&format!("grew beyond {cap} bytes")),
        "{problem}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(listing(&dir.path().join("tiny")), Vec::<String>::new());
}
