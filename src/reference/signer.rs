//! The reference's Ed25519 signing keys (ciphersuite 1's signature scheme).
//!
//! openmls's `SignatureKeyPair` keeps only the private key's bytes and
//! rebuilds the key on every signature, which costs a scalar multiplication
//! as large as the signature itself. Clients sign every commit, KeyPackage
//! and message, so this key keeps the expanded form instead.

use ed25519_dalek::{Signer as _, SigningKey};
use openmls::prelude::SignatureScheme;
use openmls_traits::signatures::{Signer, SignerError};

/// An Ed25519 key pair that signs for openmls and the MIMI protocol.
pub struct SigningKeyPair {
    key: SigningKey,
    public: [u8; 32],
}

impl SigningKeyPair {
    /// A fresh key from the thread's cryptographic RNG.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        rand::Rng::fill(&mut rand::rng(), &mut seed);
        let key = SigningKey::from_bytes(&seed);
        let public = key.verifying_key().to_bytes();
        Self { key, public }
    }

    /// The public key, as MLS credentials and MIMI requests carry it.
    pub fn public(&self) -> &[u8] {
        &self.public
    }
}

impl Signer for SigningKeyPair {
    fn sign(&self, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
        Ok(self.key.sign(payload).to_bytes().to_vec())
    }

    fn signature_scheme(&self) -> SignatureScheme {
        SignatureScheme::ED25519
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openmls_traits::{OpenMlsProvider, crypto::OpenMlsCrypto};

    #[test]
    fn signatures_verify_with_openmls_and_name_the_key() {
        let k = SigningKeyPair::generate();
        let sig = k.sign(b"payload").unwrap();
        let crypto = openmls_rust_crypto::OpenMlsRustCrypto::default();
        let c = crypto.crypto();
        assert!(
            c.verify_signature(SignatureScheme::ED25519, b"payload", k.public(), &sig)
                .is_ok()
        );
        assert!(
            c.verify_signature(SignatureScheme::ED25519, b"other", k.public(), &sig)
                .is_err()
        );
        assert_ne!(k.public(), SigningKeyPair::generate().public());
    }
}
