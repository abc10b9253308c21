//! Reading a command's input file (or stdin), shared by `content` and
//! `protocol`: bounded, and optionally hex text.

use std::io::Read;

/// Largest input read: a MIMI body's limit, with room for hex or JSON
/// around it.
pub const INPUT_LIMIT: usize = 8 * crate::protocol::MAX_BODY;

/// The bytes of `file` (`-`: `stdin`), at most [`INPUT_LIMIT`].
pub fn read_input(file: &str, stdin: &mut dyn Read) -> Result<Vec<u8>, String> {
    let mut b = Vec::new();
    let limit = INPUT_LIMIT as u64 + 1;
    if file == "-" {
        stdin
            .take(limit)
            .read_to_end(&mut b)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
    } else {
        std::fs::File::open(file)
            .and_then(|f| f.take(limit).read_to_end(&mut b))
            .map_err(|e| format!("cannot read {file}: {e}"))?;
    }
    if b.len() > INPUT_LIMIT {
        return Err(format!("input is larger than {INPUT_LIMIT} bytes"));
    }
    Ok(b)
}

/// `raw` itself, or, with `hex`, the bytes its hex text (whitespace
/// ignored) spells.
pub fn unhex(raw: Vec<u8>, hex: bool) -> Result<Vec<u8>, String> {
    if !hex {
        return Ok(raw);
    }
    let text: String = String::from_utf8_lossy(&raw)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    ::hex::decode(text).map_err(|e| format!("input is not hex: {e}"))
}
