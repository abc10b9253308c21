//! MIMI content (draft-ietf-mimi-content-08): codec, message IDs, validation.
