//! Reading JSON back, for a summary handed in as an accumulator: a cursor that reads the
//! values the summary holds (objects, arrays, strings, integers, `null`) and refuses anything
//! else with the byte where it stopped. Total: it never panics, and it reads each byte once,
//! without recursion a crafted document could deepen.

/// Why a document cannot be read: what was expected, and at which byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    /// What the reader expected there.
    pub expected: &'static str,
    /// The byte offset in the document.
    pub at: usize,
}

/// A cursor over a JSON document.
#[derive(Debug, Clone)]
pub struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// Longest string the reader accepts: a summary's strings are cluster ids and paths.
const MAX_STRING: usize = 1024;

impl<'a> Parser<'a> {
    /// A cursor at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Parser { bytes, at: 0 }
    }

    /// An error at the current byte.
    pub fn error(&self, expected: &'static str) -> ParseError {
        ParseError {
            expected,
            at: self.at,
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Where the next value starts: the offset of the next byte that is not whitespace.
    pub fn position(&mut self) -> usize {
        self.skip_ws();
        self.at
    }

    /// The next byte that is not whitespace, without taking it.
    pub fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.at).copied()
    }

    /// Takes `b` if it comes next.
    pub fn eat(&mut self, b: u8) -> bool {
        let found = self.peek() == Some(b);
        if found {
            self.at += 1;
        }
        found
    }

    /// Takes `b`, or fails naming `expected`.
    pub fn expect(&mut self, b: u8, expected: &'static str) -> Result<(), ParseError> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.error(expected))
        }
    }

    /// Takes `null` if it comes next.
    pub fn null(&mut self) -> bool {
        self.peek();
        let found = self.bytes.get(self.at..self.at + 4) == Some(b"null");
        if found {
            self.at += 4;
        }
        found
    }

    /// Nothing but whitespace is left.
    pub fn end(&mut self) -> Result<(), ParseError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("the end of the document")),
        }
    }

    /// A decimal integer that fits an `i64` (no fraction, no exponent).
    pub fn int(&mut self) -> Result<i64, ParseError> {
        self.peek();
        let start = self.at;
        let negative = self.bytes.get(self.at) == Some(&b'-');
        if negative {
            self.at += 1;
        }
        let mut value: i64 = 0;
        let mut digits = 0;
        while let Some(&d) = self.bytes.get(self.at).filter(|d| d.is_ascii_digit()) {
            let d = i64::from(d - b'0');
            value = value
                .checked_mul(10)
                .and_then(|v| {
                    if negative {
                        v.checked_sub(d)
                    } else {
                        v.checked_add(d)
                    }
                })
                .ok_or(ParseError {
                    expected: "an integer within 64 bits",
                    at: start,
                })?;
            digits += 1;
            self.at += 1;
        }
        let leading_zero =
            digits > 1 && self.bytes.get(start + usize::from(negative)) == Some(&b'0');
        let fraction = matches!(self.bytes.get(self.at), Some(b'.' | b'e' | b'E'));
        if digits == 0 || leading_zero || fraction {
            return Err(ParseError {
                expected: "an integer",
                at: start,
            });
        }
        Ok(value)
    }

    /// An integer, or `null`.
    pub fn opt_int(&mut self) -> Result<Option<i64>, ParseError> {
        if self.null() {
            Ok(None)
        } else {
            self.int().map(Some)
        }
    }

    /// A count: an integer of zero or more.
    pub fn count(&mut self) -> Result<u64, ParseError> {
        let at = self.position();
        u64::try_from(self.int()?).map_err(|_| ParseError {
            expected: "a count (zero or more)",
            at,
        })
    }

    /// A string without escapes: every string a summary holds is a cluster id, a path of
    /// them or a name of the schema, none of which needs one, so a document that escapes a
    /// character was not written by this crate.
    pub fn string(&mut self) -> Result<&'a str, ParseError> {
        self.expect(b'"', "a string")?;
        let start = self.at;
        while matches!(self.bytes.get(self.at), Some(&b) if b != b'"' && b != b'\\' && b >= 0x20) {
            self.at += 1;
        }
        let text = self
            .bytes
            .get(start..self.at)
            .filter(|t| t.len() <= MAX_STRING)
            .and_then(smartmodule_text::utf8)
            .ok_or(ParseError {
                expected: "UTF-8 text of at most 1024 bytes",
                at: start,
            })?;
        if self.bytes.get(self.at) != Some(&b'"') {
            return Err(self.error("a closing quote (and no escapes)"));
        }
        self.at += 1;
        Ok(text)
    }

    /// Reads an object, handing each member's key to `member`, which reads its value. (A
    /// `dyn` callback: one copy of the loop serves every object of the schema.)
    pub fn object(
        &mut self,
        member: &mut dyn FnMut(&mut Self, &'a str) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        self.expect(b'{', "an object")?;
        if self.eat(b'}') {
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.expect(b':', "a colon")?;
            member(self, key)?;
            if self.eat(b'}') {
                return Ok(());
            }
            self.expect(b',', "a comma or the end of the object")?;
        }
    }

    /// Reads an array, calling `item` to read each element.
    pub fn array(
        &mut self,
        item: &mut dyn FnMut(&mut Self) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        self.expect(b'[', "an array")?;
        if self.eat(b']') {
            return Ok(());
        }
        loop {
            item(self)?;
            if self.eat(b']') {
                return Ok(());
            }
            self.expect(b',', "a comma or the end of the array")?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn integers() {
        for (text, v) in [("0", 0), ("-7", -7), ("9223372036854775807", i64::MAX)] {
            assert_eq!(Parser::new(text.as_bytes()).int(), Ok(v));
        }
        assert_eq!(Parser::new(b"-9223372036854775808").int(), Ok(i64::MIN));
        for bad in ["", "-", "01", "1.5", "1e3", "9223372036854775808", "x"] {
            assert!(Parser::new(bad.as_bytes()).int().is_err(), "{bad:?}");
        }
        assert!(Parser::new(b"-1").count().is_err());
    }

    #[test]
    fn objects_and_arrays() {
        let mut p = Parser::new(br#" { "a" : [1, 2 ,3], "b": null, "c": {} } "#);
        let mut seen = alloc::vec::Vec::new();
        p.object(&mut |p, key| {
            match key {
                "a" => p.array(&mut |p| p.int().map(|v| seen.push(v)))?,
                "b" => assert!(p.null()),
                _ => p.object(&mut |_, _| Ok(()))?,
            }
            Ok(())
        })
        .unwrap();
        p.end().unwrap();
        assert_eq!(seen, [1, 2, 3]);
        assert_eq!(
            Parser::new(b"{\"a\":1,}").object(&mut |p, _| p.int().map(drop)),
            Err(ParseError {
                expected: "a string",
                at: 7
            })
        );
    }

    #[test]
    fn strings_are_read_in_place_and_escapes_refused() {
        let mut p = Parser::new(br#""edge-1>home" "a\"b" "#);
        assert_eq!(p.string(), Ok("edge-1>home"));
        assert_eq!(
            p.string(),
            Err(ParseError {
                expected: "a closing quote (and no escapes)",
                at: 16
            })
        );
        assert!(Parser::new(b"\"tab\there\"").string().is_err());
        assert!(Parser::new(b"\"open").string().is_err());
        assert!(Parser::new(&[b'"', 0xff, b'"']).string().is_err());
        let long = alloc::format!("\"{}\"", "x".repeat(1025));
        assert!(Parser::new(long.as_bytes()).string().is_err());
    }

    proptest! {
        #[test]
        fn no_input_makes_it_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut p = Parser::new(&bytes);
            let _ = p.object(&mut |p, _| p.opt_int().map(drop));
            let _ = Parser::new(&bytes).string();
        }
    }
}
