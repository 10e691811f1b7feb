//! The real model, loaded from the files `cargo xtask models` unpacks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use embeddings::{DIMS, EmbedError, Embedder, cosine};

fn model_dir() -> PathBuf {
    std::env::var_os("CELLWEAR_MODEL_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/all-minilm-l6-v2"),
        PathBuf::from,
    )
}

#[test]
fn related_sentences_are_closer_than_unrelated_ones() {
    let model = Embedder::load(&model_dir()).expect("run `cargo xtask models` first");
    let vectors = model
        .embed(&[
            "a navy wool blazer for the office",
            "dark blue tailored jacket made of wool",
            "how to bake sourdough bread at home",
        ])
        .unwrap();
    assert_eq!(vectors.len(), 3);
    for v in &vectors {
        assert_eq!(v.len(), DIMS);
        let norm = embeddings::norm(v);
        assert!((norm - 1.0).abs() < 1e-3, "unit length, got {norm}");
    }
    let related = cosine(&vectors[0], &vectors[1]);
    let unrelated = cosine(&vectors[0], &vectors[2]);
    assert!(related > 0.5, "related {related}");
    assert!(unrelated < 0.2, "unrelated {unrelated}");
    assert!(related > unrelated + 0.3);

    // Batching and padding do not change a sentence's vector.
    let alone = model
        .embed_one("dark blue tailored jacket made of wool")
        .unwrap();
    assert!(cosine(&alone, &vectors[1]) > 0.999);
}

#[test]
fn a_missing_model_is_named() {
    let error = Embedder::load(std::path::Path::new("/nonexistent/model")).unwrap_err();
    assert!(matches!(error, EmbedError::Missing { .. }));
    assert!(error.to_string().contains("cargo xtask models"));
}
