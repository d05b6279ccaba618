//! The SHA-256 of a file's *decompressed* content, the fingerprint every data set file is checked
//! against. A gzip file (recognised by its first two bytes) is hashed after decompression, any
//! other file as it is, so a re-compressed mirror and the original host give the same sum.

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// SHA-256 of the decompressed content of the file at `path`, as lowercase hex.
///
/// A corrupt or truncated gzip stream is an error (its content cannot be known).
pub fn content_sha256(path: &Path) -> io::Result<String> {
    let mut input = BufReader::new(File::open(path)?);
    let is_gzip = input.fill_buf()?.starts_with(&[0x1F, 0x8B]);
    let mut content: Box<dyn Read> = if is_gzip {
        Box::new(MultiGzDecoder::new(input))
    } else {
        Box::new(input)
    };
    let mut hasher = Sha256::new();
    io::copy(&mut content, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

/// SHA-256 of `bytes`, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
