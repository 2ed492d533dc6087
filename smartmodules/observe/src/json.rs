//! Writing JSON without `core::fmt` (which would cost a module kilobytes): compact, keys in a
//! fixed order, so that the same state gives the same bytes in a module and on a host.

use alloc::string::String;

use smartmodule_text::push_int;

/// A JSON text under construction.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Json(pub String);

impl Json {
    /// An empty text; `clear` reuses one.
    pub fn new() -> Self {
        Json(String::new())
    }

    /// Empties the text, keeping its allocation.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// The text so far.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Appends JSON punctuation or a literal as it is.
    #[inline(never)]
    pub fn raw(&mut self, text: &str) -> &mut Self {
        self.0.push_str(text);
        self
    }

    /// Appends `"key":`, after a comma unless the object or array just opened.
    #[inline(never)]
    pub fn key(&mut self, key: &str) -> &mut Self {
        self.comma();
        self.0.push('"');
        self.0.push_str(key);
        self.0.push_str("\":");
        self
    }

    /// A comma before the next member, unless this is the first one.
    #[inline(never)]
    pub fn comma(&mut self) -> &mut Self {
        if !matches!(self.0.as_bytes().last(), Some(b'{' | b'[') | None) {
            self.0.push(',');
        }
        self
    }

    /// Appends a signed integer.
    pub fn int(&mut self, v: i64) -> &mut Self {
        push_int(&mut self.0, v);
        self
    }

    /// Appends a count (counts stay far below `i64::MAX`; a larger one is written as it).
    pub fn count(&mut self, v: u64) -> &mut Self {
        self.int(i64::try_from(v).unwrap_or(i64::MAX))
    }

    /// Appends an integer, or `null`.
    pub fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.int(v),
            None => self.raw("null"),
        }
    }

    /// Appends `true` or `false`.
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.raw(if v { "true" } else { "false" })
    }

    /// Appends `text` as a JSON string: quotes, backslashes and control characters escaped.
    #[inline(never)]
    pub fn string(&mut self, text: &str) -> &mut Self {
        self.0.push('"');
        let mut plain = 0;
        for (at, b) in text.bytes().enumerate() {
            let escape = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..=0x1f => "",
                _ => continue,
            };
            self.0.push_str(text.get(plain..at).unwrap_or_default());
            if escape.is_empty() {
                self.0.push_str("\\u00");
                self.0.push(char::from(HEX[usize::from(b >> 4)]));
                self.0.push(char::from(HEX[usize::from(b & 0xf)]));
            } else {
                self.0.push_str(escape);
            }
            plain = at + 1;
        }
        self.0.push_str(text.get(plain..).unwrap_or_default());
        self.0.push('"');
        self
    }

    /// Appends bytes: a string when they are UTF-8, else `{"base64":"..."}`.
    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        match smartmodule_text::utf8(bytes) {
            Some(text) => self.string(text),
            None => {
                self.raw("{\"base64\":\"");
                base64(&mut self.0, bytes);
                self.raw("\"}")
            }
        }
    }

    /// Appends bytes, or `null` for none.
    pub fn opt_bytes(&mut self, bytes: Option<&[u8]>) -> &mut Self {
        match bytes {
            Some(b) => self.bytes(b),
            None => self.raw("null"),
        }
    }

    /// Appends a u64 as a string of 16 lower-case hex digits, most significant first.
    pub fn hex64(&mut self, v: u64) -> &mut Self {
        self.0.push('"');
        push_hex64(&mut self.0, v);
        self.0.push('"');
        self
    }
}

/// Appends `v` as 16 lower-case hex digits, most significant first.
pub fn push_hex64(out: &mut String, v: u64) {
    for shift in (0..16).rev() {
        out.push(char::from(HEX[((v >> (shift * 4)) & 0xf) as usize]));
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends the standard base64 of `bytes` (RFC 4648, with padding).
pub fn base64(out: &mut String, bytes: &[u8]) {
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn members_get_commas_between_them() {
        let mut j = Json::new();
        j.raw("{")
            .key("a")
            .int(1)
            .key("b")
            .raw("[")
            .int(2)
            .comma()
            .int(-3);
        j.raw("]").key("c").raw("{}").raw("}");
        assert_eq!(j.as_str(), r#"{"a":1,"b":[2,-3],"c":{}}"#);
    }

    #[test]
    fn bytes_are_text_or_base64() {
        let mut j = Json::new();
        j.bytes(b"plain")
            .comma()
            .bytes(&[0xff, 0x6f, 0])
            .comma()
            .bytes(b"");
        assert_eq!(j.as_str(), r#""plain",{"base64":"/28A"},"""#);
    }

    #[test]
    fn hex_is_sixteen_digits() {
        let mut j = Json::new();
        j.hex64(0xfb03_5a87_e9f5_f191).comma().hex64(1);
        assert_eq!(j.as_str(), r#""fb035a87e9f5f191","0000000000000001""#);
    }

    proptest! {
        #[test]
        fn strings_read_back_as_themselves(s in "\\PC*|[\\x00-\\x1f\"\\\\]{0,20}") {
            let mut j = Json::new();
            j.string(&s);
            let back: String = serde_json::from_str(j.as_str()).unwrap();
            prop_assert_eq!(back, s);
        }

        #[test]
        fn base64_matches_the_reference(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            use ::base64::Engine as _;
            let mut ours = String::new();
            base64(&mut ours, &bytes);
            prop_assert_eq!(ours, ::base64::engine::general_purpose::STANDARD.encode(&bytes));
        }
    }
}
