//! Text encodings of imported files: UTF-8 or GBK (Chinese Windows exports).
//!
//! Choice order: what the file says (a Shapefile's `.cpg`), else `--encoding`,
//! else a look at the bytes: valid UTF-8 means UTF-8, anything else is GBK.

use std::io::Read;

/// A text encoding we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    /// GBK, decoded as its superset GB18030 (encoding_rs's `GBK` decoder).
    Gbk,
}

impl TextEncoding {
    /// Parses `--encoding` or a `.cpg` label.
    pub fn from_label(label: &str) -> Option<TextEncoding> {
        let l = label
            .trim()
            .trim_start_matches('\u{feff}')
            .to_ascii_lowercase();
        match l.as_str() {
            "utf-8" | "utf8" | "65001" => Some(TextEncoding::Utf8),
            "gbk" | "936" | "cp936" | "gb2312" | "gb18030" | "ansi 936" | "windows-936" => {
                Some(TextEncoding::Gbk)
            }
            _ => None,
        }
    }

    pub fn encoding_rs(self) -> &'static encoding_rs::Encoding {
        match self {
            TextEncoding::Utf8 => encoding_rs::UTF_8,
            TextEncoding::Gbk => encoding_rs::GBK,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Gbk => "GBK",
        }
    }

    /// Decodes strictly: `None` when the bytes are not valid in this encoding,
    /// so a wrong guess is reported rather than turned into replacement marks.
    pub fn decode<'a>(self, bytes: &'a [u8]) -> Option<std::borrow::Cow<'a, str>> {
        self.encoding_rs()
            .decode_without_bom_handling_and_without_replacement(bytes)
    }
}

/// Reads `reader` to the end (from `skip` bytes on) and says whether it is
/// valid UTF-8. Streams in 1 MiB chunks: a character split across chunks is
/// carried over.
pub fn is_utf8(mut reader: impl Read, skip: u64) -> std::io::Result<bool> {
    std::io::copy(&mut (&mut reader).take(skip), &mut std::io::sink())?;
    let mut buf = vec![0u8; 1 << 20];
    let mut carry = 0usize;
    loop {
        let n = reader.read(&mut buf[carry..])?;
        let filled = carry + n;
        if n == 0 {
            return Ok(carry == 0);
        }
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carry = 0,
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                carry = filled - valid;
            }
            Err(_) => return Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(TextEncoding::from_label("GBK"), Some(TextEncoding::Gbk));
        assert_eq!(TextEncoding::from_label("936\n"), Some(TextEncoding::Gbk));
        assert_eq!(TextEncoding::from_label("UTF-8"), Some(TextEncoding::Utf8));
        assert_eq!(TextEncoding::from_label("latin1"), None);
    }

    #[test]
    fn detects_gbk_and_utf8() {
        let (gbk, _, _) = encoding_rs::GBK.encode("经度,纬度\n104.6,28.7\n");
        assert!(!is_utf8(&gbk[..], 0).expect("read"));
        assert!(is_utf8("经度,纬度\n".as_bytes(), 0).expect("read"));
        assert_eq!(
            TextEncoding::Gbk.decode(&gbk).as_deref(),
            Some("经度,纬度\n104.6,28.7\n")
        );
        assert_eq!(TextEncoding::Utf8.decode(&gbk), None);
    }
}
