//! `/v1/snapshot`: save the state, change it, restore the archive and see the change undone;
//! a garbage archive is refused without touching anything.

use crate::harness::TestAgent;

/// Save → write a key → restore → the key is gone.
#[tokio::test]
async fn save_and_restore() {
    let agent = TestAgent::start().await;
    assert_eq!(agent.put("/v1/kv/before", "1").await, (200, "true".into()));
    let response = agent
        .http()
        .get(agent.url("/v1/snapshot"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("X-Consul-Index"));
    let archive = response.bytes().await.unwrap();
    assert_eq!(&archive[..2], &[0x1f, 0x8b], "gzip magic");

    assert_eq!(agent.put("/v1/kv/after", "2").await, (200, "true".into()));
    let (status, _) = agent.put("/v1/snapshot", archive.to_vec()).await;
    assert_eq!(status, 200);

    let missing = agent
        .http()
        .get(agent.url("/v1/kv/after"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let kept = agent.get_json("/v1/kv/before").await;
    assert_eq!(kept[0]["Key"], "before");
}

/// A body that is not an archive is a 400, and the state is unchanged.
#[tokio::test]
async fn garbage_restore_is_refused() {
    let agent = TestAgent::start().await;
    assert_eq!(agent.put("/v1/kv/keep", "1").await, (200, "true".into()));
    let (status, text) = agent.put("/v1/snapshot", "definitely not a snapshot").await;
    assert_eq!(status, 400);
    assert!(
        text.starts_with("failed to read snapshot archive"),
        "{text}"
    );
    assert_eq!(agent.get_json("/v1/kv/keep").await[0]["Key"], "keep");
}
