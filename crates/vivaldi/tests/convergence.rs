//! Simulated clusters with known RTTs: every node's client is fed
//! observations to its peers, and the coordinates must end up predicting
//! every pairwise RTT closely.

use std::time::Duration;

use legate_vivaldi::{Client, Config, distance_to};

/// Runs `cycles` rounds in which every node observes one peer (rotating),
/// then returns the worst relative error of the pairwise estimates.
fn simulate(rtt_ms: &[Vec<f64>], cycles: usize) -> f64 {
    let n = rtt_ms.len();
    let mut clients: Vec<Client> = (0..n)
        .map(|i| Client::with_seed(Config::default(), i as u64 + 1).unwrap())
        .collect();
    for cycle in 0..cycles {
        for i in 0..n {
            let j = (i + 1 + cycle % (n - 1)) % n;
            let peer = clients[j].coordinate().clone();
            let rtt = Duration::from_secs_f64(rtt_ms[i][j] / 1000.0);
            clients[i].update(&format!("node-{j}"), &peer, rtt).unwrap();
        }
    }
    let mut worst: f64 = 0.0;
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            let est = distance_to(clients[i].coordinate(), clients[j].coordinate());
            let est_ms = est.as_secs_f64() * 1000.0;
            worst = worst.max((est_ms - rtt_ms[i][j]).abs() / rtt_ms[i][j]);
        }
    }
    worst
}

#[test]
fn four_nodes_on_a_line_converge() {
    // Nodes 10 ms apart on a line.
    let rtt: Vec<Vec<f64>> = (0..4)
        .map(|i: i32| {
            (0..4)
                .map(|j: i32| f64::from((i - j).abs()) * 10.0)
                .collect()
        })
        .collect();
    let worst = simulate(&rtt, 1000);
    assert!(worst < 0.02, "worst relative error {worst}");
}

#[test]
fn triangle_converges() {
    let rtt = vec![
        vec![0.0, 10.0, 15.0],
        vec![10.0, 0.0, 20.0],
        vec![15.0, 20.0, 0.0],
    ];
    let worst = simulate(&rtt, 1000);
    assert!(worst < 0.02, "worst relative error {worst}");
}

#[test]
fn square_with_access_links_converges() {
    // A 20 ms square in the core, each node behind a 5 ms access link (height).
    let pos = [(0.0, 0.0), (20.0, 0.0), (20.0, 20.0), (0.0, 20.0)];
    let rtt: Vec<Vec<f64>> = pos
        .iter()
        .map(|a: &(f64, f64)| {
            pos.iter()
                .map(|b| {
                    let core = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
                    if core == 0.0 { 0.0 } else { core + 10.0 }
                })
                .collect()
        })
        .collect();
    let worst = simulate(&rtt, 2000);
    assert!(worst < 0.02, "worst relative error {worst}");
}
