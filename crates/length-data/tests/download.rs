//! The fetch path against real HTTP servers on 127.0.0.1 and local folders, with a small IDX set
//! whose sums the tests compute themselves: good downloads, corrupted and interrupted ones
//! (rejected, nothing left behind), mirrors tried in order, concurrent fetches. Transfers that
//! must be given up on are in `download_limits.rs`, files already in the data directory in
//! `local_files.rs`.

mod http_server;
mod tiny_set;

use http_server::{Reply, Server};
use length_data::FetchProblem;
use length_data::fetch::{self, Outcome, Progress, Source};
use length_data::idx::{IdxArray, IdxData, read_idx_file};
use std::path::PathBuf;
use tiny_set::*;

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
