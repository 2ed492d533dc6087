//! Building error hints without `core::fmt`, which would cost a module kilobytes.

use alloc::string::String;

/// A hint under construction: `Hint::new("at offset ").int(7).push("...")`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Hint(String);

impl Hint {
    pub fn new(text: &str) -> Self {
        Self(String::from(text))
    }

    pub fn push(mut self, text: &str) -> Self {
        self.0.push_str(text);
        self
    }

    pub fn int(mut self, value: i64) -> Self {
        push_int(&mut self.0, value);
        self
    }
}

impl From<Hint> for String {
    fn from(h: Hint) -> String {
        h.0
    }
}

/// Appends the decimal form of `value`. Written without indexing, so that it has no panic
/// path at all.
pub fn push_int(out: &mut String, value: i64) {
    if value < 0 {
        out.push('-');
    }
    let mut n = value.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut used = 0;
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        used += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for d in digits.iter().skip(digits.len() - used) {
        out.push(char::from(*d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_print_like_display() {
        for v in [0i64, 7, -7, 1234567890, i64::MIN, i64::MAX] {
            let mut s = String::new();
            push_int(&mut s, v);
            assert_eq!(s, alloc::format!("{v}"));
        }
    }
}
