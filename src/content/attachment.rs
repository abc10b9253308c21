//! ExternalPart content protection (§4.5): AES-128-GCM (encAlg 1, the
//! algorithm every implementation MUST support) and the sha-256 contentHash
//! (hashAlg 1) over the bytes stored at the URL (the ciphertext).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Nonce};
use sha2::{Digest, Sha256};

use super::model::ExternalPart;

/// IANA AEAD registry number of AES-128-GCM.
pub const AES_128_GCM: u16 = 1;
/// IANA named-information hash algorithm number of sha-256.
pub const SHA_256: u8 = 1;

/// Why attachment content could not be protected or recovered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    #[error("encAlg {0} is not supported (only 1, AES-128-GCM)")]
    UnsupportedAead(u16),
    #[error("hashAlg {0} is not supported (only 1, sha-256)")]
    UnsupportedHash(u8),
    #[error("AES-128-GCM needs a 16-octet key and a 12-octet nonce, got {key} and {nonce}")]
    BadKeyOrNonce { key: usize, nonce: usize },
    #[error(
        "contentHash does not match the fetched bytes (expected {expected}, computed {actual})"
    )]
    HashMismatch { expected: String, actual: String },
    #[error("AES-128-GCM authentication failed (wrong key, nonce, aad or corrupted content)")]
    Decrypt,
    #[error("AES-128-GCM encryption failed")]
    Encrypt,
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

fn cipher(key: &[u8], nonce: &[u8]) -> Result<Aes128Gcm, AttachmentError> {
    if key.len() != 16 || nonce.len() != 12 {
        return Err(AttachmentError::BadKeyOrNonce {
            key: key.len(),
            nonce: nonce.len(),
        });
    }
    Aes128Gcm::new_from_slice(key).map_err(|_| AttachmentError::BadKeyOrNonce {
        key: key.len(),
        nonce: nonce.len(),
    })
}

/// Encrypts with AES-128-GCM (ciphertext followed by the 16-octet tag).
pub fn encrypt(
    plaintext: &[u8],
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, AttachmentError> {
    cipher(key, nonce)?
        .encrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| AttachmentError::Encrypt)
}

/// Fills an ExternalPart for `plaintext`: encrypts it, records key, nonce,
/// aad, size (of the stored ciphertext) and its sha-256. Returns the part
/// and the bytes to store at `url`.
pub fn seal(
    plaintext: &[u8],
    mut part: ExternalPart,
    key: [u8; 16],
    nonce: [u8; 12],
) -> Result<(ExternalPart, Vec<u8>), AttachmentError> {
    let stored = encrypt(plaintext, &key, &nonce, &part.aad)?;
    part.enc_alg = AES_128_GCM;
    part.key = key.to_vec();
    part.nonce = nonce.to_vec();
    part.size = stored.len() as u64;
    part.hash_alg = SHA_256;
    part.content_hash = sha256(&stored);
    Ok((part, stored))
}

/// Checks `contentHash` against the bytes fetched from the URL (no check
/// when hashAlg is 0).
pub fn verify_hash(part: &ExternalPart, fetched: &[u8]) -> Result<(), AttachmentError> {
    match part.hash_alg {
        0 => Ok(()),
        SHA_256 => {
            let actual = sha256(fetched);
            if actual == part.content_hash {
                Ok(())
            } else {
                Err(AttachmentError::HashMismatch {
                    expected: hex::encode(&part.content_hash),
                    actual: hex::encode(actual),
                })
            }
        }
        n => Err(AttachmentError::UnsupportedHash(n)),
    }
}

/// Verifies the hash, then decrypts (encAlg 0 returns the bytes as they are).
pub fn open(part: &ExternalPart, fetched: &[u8]) -> Result<Vec<u8>, AttachmentError> {
    verify_hash(part, fetched)?;
    match part.enc_alg {
        0 => Ok(fetched.to_vec()),
        AES_128_GCM => cipher(&part.key, &part.nonce)?
            .decrypt(
                Nonce::from_slice(&part.nonce),
                Payload {
                    msg: fetched,
                    aad: &part.aad,
                },
            )
            .map_err(|_| AttachmentError::Decrypt),
        n => Err(AttachmentError::UnsupportedAead(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips_and_detects_tampering() {
        let base = ExternalPart {
            url: "https://example.com/f".into(),
            aad: b"ctx".to_vec(),
            ..Default::default()
        };
        let (part, mut stored) = seal(b"hello video", base, [7; 16], [9; 12]).unwrap();
        assert_eq!(part.size, stored.len() as u64);
        assert_eq!(open(&part, &stored).unwrap(), b"hello video");
        stored[0] ^= 1;
        assert!(matches!(
            open(&part, &stored),
            Err(AttachmentError::HashMismatch { .. })
        ));
        let mut nohash = part.clone();
        nohash.hash_alg = 0;
        assert_eq!(open(&nohash, &stored), Err(AttachmentError::Decrypt));
    }

    #[test]
    fn aes_128_gcm_matches_a_known_answer() {
        // NIST GCM test case 2 (zero key and IV, one zero block).
        let ct = encrypt(&[0u8; 16], &[0u8; 16], &[0u8; 12], b"").unwrap();
        assert_eq!(
            hex::encode(ct),
            "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf"
        );
    }
}
