//! The realm's secrets.

use std::sync::Arc;

use crate::store::Store;

/// Instances starting together each offer a secret: all get one and
/// the same, and it never changes afterwards.
pub(crate) async fn realm_secret_is_created_once(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .realm_secret("test", &format!("candidate-{i}"), 1_000)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    assert!(seen.iter().all(|s| *s == seen[0]), "{seen:?}");
    assert!(seen[0].starts_with("candidate-"));
    assert_eq!(
        store.realm_secret("test", "later", 2_000).await.unwrap(),
        seen[0]
    );
    assert_eq!(
        store.realm_secret("other", "later", 2_000).await.unwrap(),
        "later"
    );
}
