//! The embedded store keeps ids and fids across restarts, and a second start
//! does not seed again.

use envatlas_server::app;
use envatlas_server::config::Config;
use envatlas_tests::{all_fids, copy_sample, sample_dir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_fids_and_does_not_reseed() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_sample(&sample_dir(), dir.path()).expect("copy");
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };

    let first = app::start(config.clone()).await.expect("first start");
    let before = all_fids(&first);
    let readings = first.store.count_readings().await.expect("count");
    assert!(
        readings > 100_000,
        "the sample's readings were seeded: {readings}"
    );
    drop(first);

    let second = app::start(config).await.expect("second start");
    assert_eq!(all_fids(&second), before);
    assert_eq!(
        second.store.count_readings().await.expect("count"),
        readings
    );
    let all: std::collections::HashSet<i64> = before.iter().map(|(_, f)| *f).collect();
    assert_eq!(all.len(), before.len(), "fids are unique across layers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_sample_starts_with_empty_layers() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_sample(&sample_dir(), dir.path()).expect("copy");
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        no_sample: true,
        ..Config::default()
    };
    let state = app::start(config).await.expect("start");
    assert_eq!(state.atlas.layers().len(), 8);
    assert!(state.atlas.layers().iter().all(|l| l.is_empty()));
}
