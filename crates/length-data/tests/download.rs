//! The fetch path against real HTTP servers on 127.0.0.1 and local folders, with a small IDX set
//! whose sums the tests compute themselves: good downloads, corrupted and interrupted ones
//! (rejected, nothing left behind), mirrors tried in order, concurrent fetches; crawling,
//! stalled and endless transfers given up on; a wrong local file kept when nothing replaces it;
//! temporary files of killed runs cleaned up.

mod http_server;

use flate2::Compression;
use flate2::write::GzEncoder;
use http_server::{Reply, Server};
use length_data::fetch::{self, ExpectedFile, FetchOptions, FetchPlan, Outcome, Progress, Source};
use length_data::idx::{IdxArray, IdxData, read_idx_file};
use length_data::{DataError, FetchProblem};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const IMAGES: &str = "tiny-images-idx3-ubyte.gz";
const LABELS: &str = "tiny-labels-idx1-ubyte.gz";

/// A small data set: 20 images of 4x4 and their labels, as gzip IDX files.
struct TinySet {
    images_gz: Vec<u8>,
    labels_gz: Vec<u8>,
    plan: FetchPlan,
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn tiny_set() -> TinySet {
    let images = IdxArray::new(
        vec![20, 4, 4],
        IdxData::U8((0..320).map(|i| (i * 7 % 256) as u8).collect()),
    );
    let labels = IdxArray::new(vec![20], IdxData::U8((0..20).map(|i| i % 10).collect()));
    let (images, labels) = (images.to_bytes(), labels.to_bytes());
    TinySet {
        images_gz: gzip(&images),
        labels_gz: gzip(&labels),
        plan: FetchPlan {
            folder: "tiny".into(),
            files: vec![
                ExpectedFile {
                    name: IMAGES.into(),
                    sha256: sha256_hex(&images),
                    size: images.len() as u64,
                },
                ExpectedFile {
                    name: LABELS.into(),
                    sha256: sha256_hex(&labels),
                    size: labels.len() as u64,
                },
            ],
            sources: vec![],
            options: FetchOptions::default(),
        },
    }
}

/// The routes serving the tiny set under `prefix`.
fn routes(set: &TinySet, prefix: &str) -> Vec<(String, Reply)> {
    vec![
        (
            format!("{prefix}{IMAGES}"),
            Reply::File(set.images_gz.clone()),
        ),
        (
            format!("{prefix}{LABELS}"),
            Reply::File(set.labels_gz.clone()),
        ),
    ]
}

/// Every file name in a folder, hidden ones included, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The listing of a folder holding exactly these verified files (each with its note).
fn verified_listing(files: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = files
        .iter()
        .flat_map(|f| [f.to_string(), format!(".{f}.verified")])
        .collect();
    names.sort();
    names
}

fn unavailable(error: DataError) -> (String, Vec<length_data::Attempt>) {
    match error {
        DataError::Unavailable { file, attempts, .. } => (file, attempts),
        other => panic!("expected Unavailable, got {other}"),
    }
}

#[test]
fn a_good_download_is_verified_placed_and_not_fetched_again() {
    let set = tiny_set();
    let server = Server::start(routes(&set, "data/"));
    let plan = set
        .plan
        .clone()
        .with_sources(vec![Source::parse(&format!("{}data", server.base_url))]);
    let dir = tempfile::tempdir().unwrap();

    let reports = fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(
        reports[0].outcome,
        Outcome::Fetched {
            from: format!("{}data/{IMAGES}", server.base_url)
        }
    );
    let target = dir.path().join("tiny");
    assert_eq!(listing(&target), verified_listing(&[IMAGES, LABELS]));
    assert_eq!(std::fs::read(target.join(IMAGES)).unwrap(), set.images_gz);
    assert_eq!(read_idx_file(target.join(LABELS)).unwrap().shape(), &[20]);

    let again = fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap();
    assert!(again.iter().all(|r| r.outcome == Outcome::AlreadyPresent));
    assert_eq!(
        server.requests(),
        vec![format!("data/{IMAGES}"), format!("data/{LABELS}")]
    );
}

#[test]
fn a_corrupted_file_is_rejected_and_nothing_is_left_behind() {
    let set = tiny_set();
    // A valid gzip of other content: it decompresses, but to the wrong bytes.
    let mut wrong = IdxArray::new(vec![20, 4, 4], IdxData::U8(vec![1; 320])).to_bytes();
    let wrong_sum = sha256_hex(&wrong);
    let server = Server::start(vec![(IMAGES.into(), Reply::File(gzip(&wrong)))]);
    let plan = set
        .plan
        .clone()
        .with_sources(vec![Source::Url(server.base_url.clone())]);
    let dir = tempfile::tempdir().unwrap();

    let error = fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap_err();
    let message = error.to_string();
    let (file, attempts) = unavailable(error);
    assert_eq!(file, format!("tiny/{IMAGES}"));
    assert!(
        matches!(
            &attempts[0].problem,
            FetchProblem::Checksum { expected, actual } if *expected == set.plan.files[0].sha256 && *actual == wrong_sum
        ),
        "{message}"
    );
    assert!(
        message.contains(&wrong_sum) && message.contains(&set.plan.files[0].sha256),
        "{message}"
    );
    assert!(message.contains(&format!("tiny/{IMAGES}")), "{message}");
    assert_eq!(listing(&dir.path().join("tiny")), Vec::<String>::new());

    // A gzip stream damaged in flight: its content cannot even be read.
    wrong = set.images_gz.clone();
    let crc_at = wrong.len() - 8;
    wrong[crc_at] ^= 0x55;
    let server = Server::start(vec![(IMAGES.into(), Reply::File(wrong))]);
    let plan = set
        .plan
        .clone()
        .with_sources(vec![Source::Url(server.base_url.clone())]);
    let (_, attempts) = unavailable(fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap_err());
    assert!(
        matches!(&attempts[0].problem, FetchProblem::Checksum { actual, .. } if actual.contains("cannot be read"))
    );
    assert_eq!(listing(&dir.path().join("tiny")), Vec::<String>::new());
}

#[test]
fn a_server_that_stops_mid_file_is_rejected_and_nothing_is_left_behind() {
    let set = tiny_set();
    let half = set.images_gz.len() / 2;
    // With a Content-Length the client notices the missing bytes; without one, the download
    // looks complete, and the check of the content catches it.
    for (reply, announced) in [
        (
            Reply::CutOff {
                body: set.images_gz.clone(),
                sent: half,
            },
            true,
        ),
        (
            Reply::CutOffUnannounced {
                body: set.images_gz.clone(),
                sent: half,
            },
            false,
        ),
    ] {
        let server = Server::start(vec![(IMAGES.into(), reply.clone())]);
        let plan = set
            .plan
            .clone()
            .with_sources(vec![Source::Url(server.base_url.clone())]);
        let dir = tempfile::tempdir().unwrap();
        let error = fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap_err();
        let (_, attempts) = unavailable(error);
        assert_eq!(attempts.len(), 1, "{reply:?}");
        let problem = &attempts[0].problem;
        if announced {
            assert!(
                matches!(problem, FetchProblem::Transfer(m) if m.contains("interrupted")),
                "{problem}"
            );
        } else {
            assert!(
                matches!(problem, FetchProblem::Checksum { actual, .. } if actual.contains("cannot be read")),
                "{problem}"
            );
        }
        assert_eq!(
            listing(&dir.path().join("tiny")),
            Vec::<String>::new(),
            "{reply:?}"
        );
    }
}

#[test]
fn a_404_on_the_first_mirror_falls_through_to_the_second() {
    let set = tiny_set();
    let empty = Server::start(vec![]);
    let good = Server::start(routes(&set, ""));
    let plan = set.plan.clone().with_sources(vec![
        Source::Url(empty.base_url.clone()),
        Source::Url(good.base_url.clone()),
    ]);
    let dir = tempfile::tempdir().unwrap();

    let reports = fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap();
    for (report, name) in reports.iter().zip([IMAGES, LABELS]) {
        assert_eq!(
            report.outcome,
            Outcome::Fetched {
                from: format!("{}{name}", good.base_url)
            }
        );
    }
    // The first mirror was asked for the flat and the per-data-set layout of each file.
    assert_eq!(
        empty.requests(),
        vec![
            IMAGES.to_string(),
            format!("tiny/{IMAGES}"),
            LABELS.to_string(),
            format!("tiny/{LABELS}"),
        ]
    );
    assert_eq!(
        listing(&dir.path().join("tiny")),
        verified_listing(&[IMAGES, LABELS])
    );
}

#[test]
fn a_mirror_with_one_folder_per_data_set_is_understood() {
    let set = tiny_set();
    let server = Server::start(routes(&set, "tiny/"));
    let plan = set
        .plan
        .clone()
        .with_sources(vec![Source::Url(server.base_url.clone())]);
    let dir = tempfile::tempdir().unwrap();
    let reports = fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap();
    assert_eq!(
        reports[1].outcome,
        Outcome::Fetched {
            from: format!("{}tiny/{LABELS}", server.base_url)
        }
    );
}

#[test]
fn when_nothing_can_be_fetched_the_error_lists_the_hosts_and_the_way_out() {
    let set = tiny_set();
    let empty = Server::start(vec![]);
    // A port nobody listens on: bind one, then let it go.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", listener.local_addr().unwrap())
    };
    let plan = set.plan.clone().with_sources(vec![
        Source::Url(empty.base_url.clone()),
        Source::Url(closed.clone()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let error = fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap_err();
    let message = error.to_string();
    for expected in [
        format!("{}{IMAGES}: not found", empty.base_url),
        format!("{closed}{IMAGES}:"),
        "--from".to_string(),
        "LENGTH_DATA_MIRROR".to_string(),
    ] {
        assert!(
            message.contains(&expected),
            "missing {expected:?} in:\n{message}"
        );
    }
    let (_, attempts) = unavailable(error);
    // Flat and per-data-set paths on the 404 mirror; one try on the dead one.
    assert_eq!(attempts.len(), 3, "{message}");
    assert!(
        matches!(attempts[2].problem, FetchProblem::Transfer(_)),
        "{message}"
    );
}

/// A local mirror laid out like `../shared/datasets`: `<dir>/tiny/<files>`.
fn local_mirror(set: &TinySet) -> tempfile::TempDir {
    let mirror = tempfile::tempdir().unwrap();
    std::fs::create_dir(mirror.path().join("tiny")).unwrap();
    std::fs::write(mirror.path().join("tiny").join(IMAGES), &set.images_gz).unwrap();
    std::fs::write(mirror.path().join("tiny").join(LABELS), &set.labels_gz).unwrap();
    mirror
}

#[test]
fn local_folders_are_copied_in_either_layout() {
    let set = tiny_set();
    let mirror = local_mirror(&set);
    for folder in [mirror.path().to_path_buf(), mirror.path().join("tiny")] {
        let plan = set
            .plan
            .clone()
            .with_sources(vec![Source::parse(folder.to_str().unwrap())]);
        let dir = tempfile::tempdir().unwrap();
        let reports = fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap();
        let expected_from = mirror.path().join("tiny").join(IMAGES);
        assert_eq!(
            reports[0].outcome,
            Outcome::Fetched {
                from: expected_from.display().to_string()
            }
        );
        assert_eq!(
            listing(&dir.path().join("tiny")),
            verified_listing(&[IMAGES, LABELS])
        );
    }
}

#[test]
fn a_wrong_file_in_the_first_folder_falls_through_to_the_next_source() {
    let set = tiny_set();
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(bad.path().join(IMAGES), &set.labels_gz).unwrap(); // the wrong file
    std::fs::write(bad.path().join(LABELS), &set.labels_gz).unwrap();
    let good = local_mirror(&set);
    let plan = set.plan.clone().with_sources(vec![
        Source::Folder(bad.path().to_path_buf()),
        Source::Folder(good.path().to_path_buf()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let reports = fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap();
    assert_eq!(
        reports[0].outcome,
        Outcome::Fetched {
            from: good.path().join("tiny").join(IMAGES).display().to_string()
        }
    );
    assert_eq!(
        reports[1].outcome,
        Outcome::Fetched {
            from: bad.path().join(LABELS).display().to_string()
        }
    );
    assert_eq!(
        std::fs::read(dir.path().join("tiny").join(IMAGES)).unwrap(),
        set.images_gz
    );
}

#[test]
fn a_present_file_with_wrong_content_is_replaced() {
    let set = tiny_set();
    let mirror = local_mirror(&set);
    let plan = set
        .plan
        .clone()
        .with_sources(vec![Source::Folder(mirror.path().to_path_buf())]);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("tiny");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join(IMAGES), b"garbage").unwrap();
    std::fs::write(target.join(LABELS), &set.labels_gz).unwrap();

    let reports = fetch::fetch(&plan, dir.path(), Progress::Quiet).unwrap();
    assert!(matches!(reports[0].outcome, Outcome::Fetched { .. }));
    assert_eq!(reports[1].outcome, Outcome::AlreadyPresent);
    assert_eq!(std::fs::read(target.join(IMAGES)).unwrap(), set.images_gz);
}

#[test]
fn concurrent_fetches_into_one_directory_are_safe() {
    let set = tiny_set();
    let mirror = local_mirror(&set);
    let server = Server::start(routes(&set, ""));
    let dir = tempfile::tempdir().unwrap();
    let sources = [
        Source::Folder(mirror.path().to_path_buf()),
        Source::Url(server.base_url.clone()),
    ];
    std::thread::scope(|scope| {
        let fetchers: Vec<_> = (0..6)
            .map(|i| {
                let plan = set.plan.clone().with_sources(vec![sources[i % 2].clone()]);
                let dir: PathBuf = dir.path().to_path_buf();
                scope.spawn(move || fetch::fetch(&plan, &dir, Progress::Quiet))
            })
            .collect();
        for fetcher in fetchers {
            fetcher.join().unwrap().unwrap();
        }
    });
    let target = dir.path().join("tiny");
    assert_eq!(listing(&target), verified_listing(&[IMAGES, LABELS]));
    assert_eq!(std::fs::read(target.join(IMAGES)).unwrap(), set.images_gz);
    assert_eq!(std::fs::read(target.join(LABELS)).unwrap(), set.labels_gz);
}

#[test]
fn sources_parse_as_folders_or_urls() {
    assert_eq!(
        Source::parse("https://host/mnist"),
        Source::Url("https://host/mnist/".into())
    );
    assert_eq!(
        Source::parse("http://host/"),
        Source::Url("http://host/".into())
    );
    assert_eq!(
        Source::parse("../shared/datasets"),
        Source::Folder("../shared/datasets".into())
    );
    assert_eq!(
        Source::parse("file:///data"),
        Source::Folder("/data".into())
    );
}

/// The one attempt of a plan with one URL source: its problem's message.
fn only_problem(error: DataError) -> String {
    let (_, attempts) = unavailable(error);
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    attempts[0].problem.to_string()
}

/// Temporary files in a folder.
fn part_files(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|name| name.ends_with(".part"))
        .collect()
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
    let mut plan = set
        .plan
        .clone()
        .with_sources(vec![Source::Url(server.base_url.clone())])
        .with_options(options);
    plan.files.truncate(1);
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
    let mut plan = set
        .plan
        .clone()
        .with_sources(vec![Source::Url(server.base_url.clone())])
        .with_options(options);
    plan.files.truncate(1);
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
    let mut plan = set
        .plan
        .clone()
        .with_sources(vec![Source::Url(server.base_url.clone())])
        .with_options(options);
    plan.files.truncate(1);
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
    let mut plan = set
        .plan
        .clone()
        .with_sources(vec![Source::Url(server.base_url.clone())]);
    plan.files.truncate(1);
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
    // Slow enough that the child is still downloading when it is interrupted.
    let server = Server::start(vec![(
        IMAGES.to_string(),
        Reply::Trickle {
            body: set.images_gz.clone(),
            chunk: 16,
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
    // Ctrl-C: SIGINT ends a Rust program without unwinding, so no drop guard runs.
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
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
