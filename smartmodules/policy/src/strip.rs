//! Strip: the tag is removed, giving consumers the producer's exact key and value; a key that
//! was absent before tagging (`NO_KEY`) is absent again. Untagged and malformed carriers pass.

use origin::{Carrier, FLAG_NO_KEY};

use crate::params::Params;
use crate::record::{carrier_from_params, Carried};
use crate::{Keep, ParamError};

/// The strip stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strip {
    carrier: Carrier,
}

impl Strip {
    /// `carrier`: where the tag to remove travels.
    pub fn from_params(p: &Params<'_>) -> Result<Self, ParamError> {
        Ok(Strip {
            carrier: carrier_from_params(p)?,
        })
    }

    /// Where the tag travels.
    pub fn carrier(&self) -> Carrier {
        self.carrier
    }

    /// The record with its carrier reduced to the payload.
    #[inline]
    pub fn apply<'a>(&self, c: &Carried<'a>) -> Keep<'a> {
        match c.tag() {
            Some(env) => Keep::Rewrite {
                payload: c.payload,
                absent: self.carrier == Carrier::Key && env.flags() & FLAG_NO_KEY != 0,
                new_id: None,
            },
            None => Keep::AsIs,
        }
    }
}
