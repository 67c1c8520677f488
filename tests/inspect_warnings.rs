//! What dockerd would only have logged (a config blob that does not read) is warned on stderr,
//! naming the image and the config blob, in the order of the references, as the CLI's one request after another would have made
//! dockerd log it, however the workers that inspect them in parallel finish.

#[path = "gcdu_support/mod.rs"]
mod support;

use std::path::Path;

use support::coldctr_moby as coldctr;

/// The (manifest, config) digests of each single-manifest image, by name.
fn targets(root: &Path, names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .map(|name| {
            let out = coldctr(root, &["inspect", "--format", "{{.Descriptor.Digest}}", name]);
            assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
            let manifest = String::from_utf8(out.stdout).expect("utf-8").trim().to_string();
            let doc = support::read_json(&support::blob_path(root, &manifest));
            (manifest, support::s(&doc["config"]["digest"]).expect("a config digest"))
        })
        .collect()
}

/// The image IDs (manifest digests) and the config blobs the "failed to read image config"
/// warnings name, in stderr order.
fn warned(stderr: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.contains("failed to read image config"))
        // "coldctr: sha256:<image>: failed to read image config: config sha256:<config>: ..."
        .filter_map(|l| {
            let mut parts = l.strip_prefix("coldctr: ")?.split(": ");
            let image = parts.next()?.to_string();
            let config = parts.nth(1)?.strip_prefix("config ")?.to_string();
            Some((image, config))
        })
        .collect()
}

#[test]
fn warnings_follow_the_references_order() {
    let (_tmp, root) = support::fixture_copy("docker-28.5");
    let names = [
        "docker.io/lab/collide:1",
        "docker.io/library/classic:1",
        "docker.io/library/legacy:2.3",
        "docker.io/library/retagme:1",
        "ghcr.io/example/tool:v1",
        "docker.io/lab/nohist:1",
    ];
    let targets = targets(&root, &names);
    let configs: std::collections::HashSet<_> = targets.iter().map(|(_, c)| c).collect();
    assert_eq!(configs.len(), names.len(), "each image has its own config: {targets:?}");
    for config in configs {
        std::fs::remove_file(support::blob_path(&root, config)).expect("remove a config blob");
    }
    // Three references or fewer are looked up one by one, more go through the index: both
    // ways, forwards and backwards, several times (an order left to the workers shows).
    for count in [3, names.len()] {
        for reversed in [false, true] {
            let mut order: Vec<usize> = (0..count).collect();
            if reversed {
                order.reverse();
            }
            let refs: Vec<&str> = order.iter().map(|&i| names[i]).collect();
            let want: Vec<(String, String)> = order.iter().map(|&i| targets[i].clone()).collect();
            for _ in 0..5 {
                let mut args = vec!["inspect"];
                args.extend(&refs);
                let out = coldctr(&root, &args);
                assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
                assert_eq!(warned(&out.stderr), want, "references {refs:?}");
            }
        }
    }
}
