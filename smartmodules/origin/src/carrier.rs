//! Where a tag travels: the record's value (the default) or its key. The half of the record
//! that carries the tag is the carrier; the other half is bound by the MAC all the same.

/// Which half of a record carries the tag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Carrier {
    /// The value (the default).
    #[default]
    Value,
    /// The key; a record without one is untagged.
    Key,
}

impl Carrier {
    /// The carrier bytes of a record, if it has them (a record may have no key).
    #[inline]
    pub fn of<'a>(self, key: Option<&'a [u8]>, value: &'a [u8]) -> Option<&'a [u8]> {
        match self {
            Carrier::Value => Some(value),
            Carrier::Key => key,
        }
    }

    /// The other half: the key when the tag travels in the value, the value when in the key.
    #[inline]
    pub fn other<'a>(self, key: Option<&'a [u8]>, value: &'a [u8]) -> Option<&'a [u8]> {
        match self {
            Carrier::Value => key,
            Carrier::Key => Some(value),
        }
    }

    /// `value` or `key`.
    pub fn as_str(self) -> &'static str {
        match self {
            Carrier::Value => "value",
            Carrier::Key => "key",
        }
    }

    /// Its byte in the MAC input (FORMAT.md §7): 0 for the value, 1 for the key.
    #[inline]
    pub fn byte(self) -> u8 {
        match self {
            Carrier::Value => 0,
            Carrier::Key => 1,
        }
    }
}
