//! `/v1/health`: states, and service health with `?passing`.

use serde_json::json;

use crate::harness::TestAgent;

/// Checks by state, and `?passing` dropping instances with a failing check.
#[tokio::test]
async fn states_and_passing_filter() {
    let agent = TestAgent::start().await;
    for (node, status) in [("a", "passing"), ("b", "critical")] {
        let body = json!({
            "Node": node, "Address": "10.1.0.1",
            "Service": {"Service": "svc", "Port": 80},
            "Check": {"CheckID": "svc-check", "Name": "svc", "Status": status, "ServiceID": "svc"}
        });
        assert_eq!(
            agent.put("/v1/catalog/register", body.to_string()).await.0,
            200
        );
    }
    let critical = agent.get_json("/v1/health/state/critical").await;
    assert_eq!(critical.as_array().unwrap().len(), 1);
    assert_eq!(critical[0]["Node"], "b");
    let any = agent.get_json("/v1/health/state/any").await;
    assert_eq!(any.as_array().unwrap().len(), 3);
    assert_eq!(
        agent
            .get_json("/v1/health/service/svc")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let passing = agent.get_json("/v1/health/service/svc?passing").await;
    assert_eq!(passing.as_array().unwrap().len(), 1);
    assert_eq!(passing[0]["Node"]["Node"], "a");
    let r = agent
        .http()
        .get(agent.url("/v1/health/state/sideways"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}
