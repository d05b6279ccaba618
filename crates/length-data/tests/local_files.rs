//! Nothing the user had is lost, and nothing a killed run left stays: a wrong file in the data
//! directory is replaced only by a verified copy, and kept aside when none comes; temporary
//! `.part` files of processes that are gone are removed by the next fetch, also after a real
//! Ctrl-C (SIGINT) of a child process in the middle of a download.

mod http_server;
mod tiny_set;

use http_server::{Reply, Server};
use length_data::DataError;
use length_data::fetch::{self, Progress, Source};
use std::path::Path;
use std::time::{Duration, Instant};
use tiny_set::*;

#[test]
fn a_wrong_local_file_without_a_verified_replacement_is_kept_aside() {
    let set = tiny_set();
    // One host without the file, one with the wrong content: neither delivers.
    let empty = Server::start(vec![]);
    let wrong = Server::start(vec![(IMAGES.to_string(), Reply::File(gzip(b"not it")))]);
    let mut plan = set.plan.clone().with_sources(vec![
        Source::Url(empty.base_url.clone()),
        Source::Url(wrong.base_url.clone()),
    ]);
    plan.files.truncate(1);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("tiny");
    std::fs::create_dir(&target).unwrap();
    // The user's file, truncated: wrong, but maybe all they have.
    let truncated = &set.images_gz[..set.images_gz.len() / 2];
    std::fs::write(target.join(IMAGES), truncated).unwrap();

    let error = fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap_err();
    let message = error.to_string();
    let DataError::Unavailable {
        set_aside,
        dir: folder,
        ..
    } = error
    else {
        panic!("expected Unavailable: {message}");
    };
    assert_eq!(folder, target);
    let kept = set_aside.expect("the wrong file was there, so it is kept");
    assert_eq!(
        std::fs::read(&kept).unwrap(),
        truncated,
        "kept byte for byte"
    );
    let kept_name = kept.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        kept_name.starts_with(&format!("{IMAGES}.corrupt-")),
        "{kept_name}"
    );
    assert!(message.contains(&kept.display().to_string()), "{message}");
    assert!(
        !target.join(IMAGES).exists(),
        "not in the way of the next run"
    );
    assert_eq!(listing(&target), vec![kept_name]);

    // With a source, the next run fetches a verified copy; the kept file stays untouched.
    let mirror = local_mirror(&set);
    let plan = plan.with_sources(vec![Source::Folder(mirror.path().to_path_buf())]);
    fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap();
    assert_eq!(std::fs::read(target.join(IMAGES)).unwrap(), set.images_gz);
    assert_eq!(std::fs::read(&kept).unwrap(), truncated);
}

#[test]
fn stale_temporary_files_are_removed_and_live_ones_kept() {
    let set = tiny_set();
    let mirror = local_mirror(&set);
    let plan = set
        .plan
        .clone()
        .with_sources(vec![Source::Folder(mirror.path().to_path_buf())]);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("tiny");
    std::fs::create_dir(&target).unwrap();
    let me = std::process::id();
    // A process id above Linux's maximum (2^22): no such process runs.
    let dead = u32::MAX;
    let stale = [
        format!(".{IMAGES}.{dead}-0-123.part"),
        format!(".{IMAGES}.verified.{dead}-1-123.part"),
        format!(".{LABELS}.{dead}-0-456.part"),
    ];
    let live = format!(".{IMAGES}.{me}-999-1.part");
    let old = format!(".{LABELS}.{me}-998-1.part");
    let not_ours = format!(".other.gz.{dead}-0-1.part");
    for name in stale.iter().chain([&live, &old, &not_ours]) {
        std::fs::write(target.join(name), b"partial").unwrap();
    }
    // A file of a live process, but unchanged for two days: stale too.
    let two_days_ago = std::time::SystemTime::now() - Duration::from_secs(2 * 24 * 3600);
    std::fs::File::options()
        .write(true)
        .open(target.join(&old))
        .unwrap()
        .set_modified(two_days_ago)
        .unwrap();

    fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap();
    let mut expected = vec![live, not_ours];
    expected.sort();
    if cfg!(not(target_os = "linux")) {
        return; // without /proc, only the age tells
    }
    assert_eq!(part_files(&target), expected);
}

/// The environment variable that makes [`child_fetch_for_the_interrupt_test`] fetch.
const CHILD_FETCH_URL: &str = "LENGTH_TEST_CHILD_FETCH_URL";
const CHILD_FETCH_DIR: &str = "LENGTH_TEST_CHILD_FETCH_DIR";

/// Not a test of its own: the child process of
/// [`an_interrupted_fetch_leaves_a_part_file_that_the_next_run_removes`], which runs this test
/// binary with the variables set. Without them it does nothing.
#[test]
fn child_fetch_for_the_interrupt_test() {
    let (Ok(url), Ok(dir)) = (
        std::env::var(CHILD_FETCH_URL),
        std::env::var(CHILD_FETCH_DIR),
    ) else {
        return;
    };
    let mut plan = tiny_set().plan.with_sources(vec![Source::Url(url)]);
    plan.files.truncate(1);
    let _ = fetch::fetch(&plan, Path::new(&dir), Progress::Quiet);
}

#[cfg(unix)]
#[test]
fn an_interrupted_fetch_leaves_a_part_file_that_the_next_run_removes() {
    let set = tiny_set();
    // Slow enough that the child is still downloading when it is killed, however long a loaded
    // machine takes to start it: a byte every 100 ms would make the file's ~300 bytes last half
    // a minute, longer than the server's longest reply.
    let server = Server::start(vec![(
        IMAGES.to_string(),
        Reply::Trickle {
            body: set.images_gz.clone(),
            chunk: 1,
            every: Duration::from_millis(100),
        },
    )]);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("tiny");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "child_fetch_for_the_interrupt_test",
            "--exact",
            "--test-threads=1",
        ])
        .env(CHILD_FETCH_URL, &server.base_url)
        .env(CHILD_FETCH_DIR, dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while part_files(&target).is_empty() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(part_files(&target).len(), 1, "the child is downloading");
    // Killed, as Ctrl-C's SIGINT ends a Rust program without a handler: without unwinding, so no
    // drop guard runs. Not SIGINT itself: a program started in the background by a script (as a
    // CI job may run the tests) inherits SIGINT ignored, and the child then finished its download.
    child.kill().unwrap();
    let exit = child.wait().unwrap();
    assert!(!exit.success(), "the child was interrupted: {exit:?}");
    assert_eq!(
        part_files(&target).len(),
        1,
        "a killed process leaves its .part file"
    );

    let mirror = local_mirror(&set);
    let mut plan = set
        .plan
        .clone()
        .with_sources(vec![Source::Folder(mirror.path().to_path_buf())]);
    plan.files.truncate(1);
    fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap();
    assert_eq!(part_files(&target), Vec::<String>::new());
    assert_eq!(listing(&target), verified_listing(&[IMAGES]));
}
