//! A transforms file as serde reads it: typed documents (`FileDoc` -> `StepsDoc` ->
//! `StepDoc` -> `uses`, `with`, `lookback`), like Fluvio's `TransformationConfig`, except that
//! each place keeps what the file holds when it has the wrong shape (a list where a module
//! name goes, a number where a param goes) instead of failing inside serde. The caller then
//! says what is wrong in the file's own terms: which transform, which key, and the fix.
//!
//! Params follow Fluvio's `JsonString`: strings stay strings, maps and lists become their
//! JSON text.
//!
//! The documents are written back as they read (a topology file embeds a [`StepsDoc`] and is
//! printed again); what a check would refuse cannot be written, and keys that are not used
//! are not written.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, EnumAccess, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// The shape a YAML value has, as messages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Empty,
    Bool,
    Number,
    String,
    List,
    Map,
    Tagged,
}

impl Kind {
    /// "a list", "a number", ...
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Empty => "empty",
            Kind::Bool => "a boolean",
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::List => "a list",
            Kind::Map => "a map",
            Kind::Tagged => "a tagged value",
        }
    }
}

/// A value that should have one shape: what it is, with the shape-specific handling in the
/// hooks; a value of another shape is consumed and kept as its [`Kind`] (and, for scalars,
/// its text).
trait Shape<'de>: Sized {
    fn other(kind: Kind, text: Option<String>) -> Self;

    fn string(s: &str) -> Self {
        Self::other(Kind::String, Some(s.to_string()))
    }
    fn unsigned(n: u64) -> Self {
        Self::other(Kind::Number, Some(n.to_string()))
    }
    fn signed(n: i64) -> Self {
        Self::other(Kind::Number, Some(n.to_string()))
    }
    fn float(f: f64) -> Self {
        Self::other(Kind::Number, Some(float_text(f)))
    }
    fn boolean(b: bool) -> Self {
        Self::other(Kind::Bool, Some(b.to_string()))
    }
    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Self::other(Kind::Map, None))
    }
    fn list<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Self::other(Kind::List, None))
    }
}

/// A float as YAML writes it (`5.0`, `.inf`), for "quote it" hints.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        ".nan".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { ".inf" } else { "-.inf" }.to_string()
    } else {
        let s = f.to_string();
        if s.contains(['.', 'e', 'E']) {
            s
        } else {
            format!("{s}.0")
        }
    }
}

struct ShapeVisitor<T>(PhantomData<T>);

impl<'de, T: Shape<'de>> Visitor<'de> for ShapeVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        Ok(T::boolean(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Ok(T::signed(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Ok(T::unsigned(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Ok(T::float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok(T::string(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::other(Kind::Empty, None))
    }
    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        Ok(T::other(Kind::Empty, None))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::map(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::list(seq)
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<T, A::Error> {
        // A YAML tag (`!Tag value`): serde_yaml hands it over as an enum variant.
        let (_, variant) = data.variant::<IgnoredAny>()?;
        de::VariantAccess::newtype_variant::<IgnoredAny>(variant)?;
        Ok(T::other(Kind::Tagged, None))
    }
}

macro_rules! deserialize_by_shape {
    ($($t:ty),*) => {$(
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(ShapeVisitor::<$t>(PhantomData))
            }
        }
    )*};
}

deserialize_by_shape!(
    Key,
    Text,
    Whole,
    Param,
    ParamsDoc,
    LookbackDoc,
    StepDoc,
    StepsDoc,
    FileDoc
);

/// A mapping key: a name, or some other scalar (kept as its text for warnings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Name(String),
    Other(String),
}

impl Key {
    /// The key as a warning shows it.
    pub fn text(&self) -> &str {
        match self {
            Key::Name(s) | Key::Other(s) => s,
        }
    }
}

impl Shape<'_> for Key {
    fn other(kind: Kind, text: Option<String>) -> Self {
        Key::Other(text.unwrap_or_else(|| kind.describe().to_string()))
    }
    fn string(s: &str) -> Self {
        Key::Name(s.to_string())
    }
}

/// A string, or what was there instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    Is(String),
    Not(Kind),
}

impl Shape<'_> for Text {
    fn other(kind: Kind, _: Option<String>) -> Self {
        Text::Not(kind)
    }
    fn string(s: &str) -> Self {
        Text::Is(s.to_string())
    }
}

/// A whole number (`lookback.last`), or what was there instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whole {
    Is(u64),
    Not(Kind),
}

impl Shape<'_> for Whole {
    fn other(kind: Kind, _: Option<String>) -> Self {
        Whole::Not(kind)
    }
    fn unsigned(n: u64) -> Self {
        Whole::Is(n)
    }
    fn signed(n: i64) -> Self {
        u64::try_from(n).map_or(Whole::Not(Kind::Number), Whole::Is)
    }
}

/// One param value (`with.KEY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// A string, passed as it is.
    Text(String),
    /// A map or a list, passed as its JSON text (as Fluvio's `JsonString`).
    Json(String),
    /// A number or a boolean, with its text: Fluvio refuses these.
    Scalar(Kind, String),
    /// Anything else.
    Not(Kind),
}

impl<'de> Shape<'de> for Param {
    fn other(kind: Kind, text: Option<String>) -> Self {
        match text {
            Some(text) if matches!(kind, Kind::Number | Kind::Bool) => Param::Scalar(kind, text),
            _ => Param::Not(kind),
        }
    }
    fn string(s: &str) -> Self {
        Param::Text(s.to_string())
    }
    fn map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        // Read as JSON straight from the file. A map JSON cannot hold (a key that is not a
        // string) stops the parse there: serde_yaml's error then says where.
        serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(|json| Param::Json(json.to_string()))
            .map_err(|e| de::Error::custom(format!("a param cannot be turned into JSON: {e}")))
    }
    fn list<A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))
            .map(|json| Param::Json(json.to_string()))
            .map_err(|e| de::Error::custom(format!("a param cannot be turned into JSON: {e}")))
    }
}

/// `with`: params in file order, or what was there instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamsDoc {
    Map(Vec<(Key, Param)>),
    Not(Kind),
}

impl<'de> Shape<'de> for ParamsDoc {
    fn other(kind: Kind, _: Option<String>) -> Self {
        ParamsDoc::Not(kind)
    }
    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut params = Vec::new();
        while let Some(entry) = map.next_entry::<Key, Param>()? {
            params.push(entry);
        }
        Ok(ParamsDoc::Map(params))
    }
}

/// `lookback`: `last` and `age`, and the keys that are neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookbackDoc {
    Map {
        last: Option<Whole>,
        age: Option<Text>,
        unknown: Vec<Key>,
    },
    Not(Kind),
}

impl<'de> Shape<'de> for LookbackDoc {
    fn other(kind: Kind, _: Option<String>) -> Self {
        LookbackDoc::Not(kind)
    }
    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let (mut last, mut age, mut unknown) = (None, None, Vec::new());
        while let Some(key) = map.next_key::<Key>()? {
            match key.text() {
                "last" => last = Some(map.next_value::<Whole>()?),
                "age" => age = Some(map.next_value::<Text>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    unknown.push(key);
                }
            }
        }
        Ok(LookbackDoc::Map { last, age, unknown })
    }
}

/// One transform: `uses`, `with`, `lookback`, and the keys that are none of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepDoc {
    Map {
        uses: Option<Text>,
        with: Option<ParamsDoc>,
        lookback: Option<LookbackDoc>,
        unknown: Vec<Key>,
    },
    Not(Kind),
}

impl<'de> Shape<'de> for StepDoc {
    fn other(kind: Kind, _: Option<String>) -> Self {
        StepDoc::Not(kind)
    }
    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let (mut uses, mut with, mut lookback, mut unknown) = (None, None, None, Vec::new());
        while let Some(key) = map.next_key::<Key>()? {
            match key.text() {
                "uses" => uses = Some(map.next_value::<Text>()?),
                "with" => with = Some(map.next_value::<ParamsDoc>()?),
                "lookback" => lookback = Some(map.next_value::<LookbackDoc>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    unknown.push(key);
                }
            }
        }
        Ok(StepDoc::Map {
            uses,
            with,
            lookback,
            unknown,
        })
    }
}

/// `transforms`: the steps, or what was there instead. A topology file embeds this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepsDoc {
    List(Vec<StepDoc>),
    Not(Kind),
}

impl<'de> Shape<'de> for StepsDoc {
    fn other(kind: Kind, _: Option<String>) -> Self {
        StepsDoc::Not(kind)
    }
    fn list<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut steps = Vec::new();
        while let Some(step) = seq.next_element::<StepDoc>()? {
            steps.push(step);
        }
        Ok(StepsDoc::List(steps))
    }
}

/// A whole transforms file: `transforms`, and the top-level keys Fluvio does not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileDoc {
    Map {
        transforms: Option<StepsDoc>,
        unknown: Vec<Key>,
    },
    Not(Kind),
}

impl<'de> Shape<'de> for FileDoc {
    fn other(kind: Kind, _: Option<String>) -> Self {
        FileDoc::Not(kind)
    }
    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let (mut transforms, mut unknown) = (None, Vec::new());
        while let Some(key) = map.next_key::<Key>()? {
            match key.text() {
                "transforms" => transforms = Some(map.next_value::<StepsDoc>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    unknown.push(key);
                }
            }
        }
        Ok(FileDoc::Map {
            transforms,
            unknown,
        })
    }
}

impl StepDoc {
    /// A step as a program writes it: the module, its params in order, no look-back.
    pub fn new<K: Into<String>, V: Into<String>>(
        uses: impl Into<String>,
        with: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        StepDoc::Map {
            uses: Some(Text::Is(uses.into())),
            with: Some(ParamsDoc::Map(
                with.into_iter()
                    .map(|(k, v)| (Key::Name(k.into()), Param::Text(v.into())))
                    .collect(),
            )),
            lookback: None,
            unknown: Vec::new(),
        }
    }

    /// The step with a look-back of the topic's last `last` records.
    pub fn lookback_last(mut self, last: u64) -> Self {
        if let StepDoc::Map { lookback, .. } = &mut self {
            *lookback = Some(LookbackDoc::Map {
                last: Some(Whole::Is(last)),
                age: None,
                unknown: Vec::new(),
            });
        }
        self
    }

    /// Sets the string param `key`, or with `None` removes it; a step that is not a map
    /// stays as it is.
    pub fn set_param(&mut self, key: &str, value: Option<&str>) {
        let StepDoc::Map { with, .. } = self else {
            return;
        };
        if !matches!(with, Some(ParamsDoc::Map(_))) {
            *with = Some(ParamsDoc::Map(Vec::new()));
        }
        let Some(ParamsDoc::Map(params)) = with else {
            return;
        };
        let at = params.iter().position(|(k, _)| k == &Key::Name(key.into()));
        match (at, value) {
            (Some(i), Some(v)) => params[i].1 = Param::Text(v.into()),
            (None, Some(v)) => params.push((Key::Name(key.into()), Param::Text(v.into()))),
            (Some(i), None) => {
                params.remove(i);
            }
            (None, None) => {}
        }
    }
}

/// What cannot be written back: a value of the wrong shape, kept only as its [`Kind`].
fn unwritable<E: ser::Error>(what: &str, kind: Kind) -> E {
    E::custom(format!(
        "{what} is {}, which a check refuses",
        kind.describe()
    ))
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Key::Name(name) => s.serialize_str(name),
            Key::Other(text) => Err(ser::Error::custom(format!(
                "key {text} is not a string, which a check refuses"
            ))),
        }
    }
}

impl Serialize for Param {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Param::Text(text) => s.serialize_str(text),
            // The map or list it was read from, so the file reads the same.
            Param::Json(json) => serde_json::from_str::<serde_json::Value>(json)
                .map_err(ser::Error::custom)?
                .serialize(s),
            Param::Scalar(kind, _) | Param::Not(kind) => Err(unwritable("a param", *kind)),
        }
    }
}

impl Serialize for ParamsDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ParamsDoc::Map(params) => {
                let mut map = s.serialize_map(Some(params.len()))?;
                for (k, v) in params {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            ParamsDoc::Not(Kind::Empty) => s.serialize_unit(),
            ParamsDoc::Not(kind) => Err(unwritable("`with`", *kind)),
        }
    }
}

impl Serialize for LookbackDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            LookbackDoc::Map { last, age, .. } => {
                let mut map = s.serialize_map(None)?;
                match last {
                    Some(Whole::Is(n)) => map.serialize_entry("last", n)?,
                    Some(Whole::Not(kind)) => return Err(unwritable("`lookback.last`", *kind)),
                    None => {}
                }
                match age {
                    Some(Text::Is(text)) => map.serialize_entry("age", text)?,
                    Some(Text::Not(kind)) => return Err(unwritable("`lookback.age`", *kind)),
                    None => {}
                }
                map.end()
            }
            LookbackDoc::Not(Kind::Empty) => s.serialize_unit(),
            LookbackDoc::Not(kind) => Err(unwritable("`lookback`", *kind)),
        }
    }
}

impl Serialize for StepDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (uses, with, lookback) = match self {
            StepDoc::Map {
                uses,
                with,
                lookback,
                ..
            } => (uses, with, lookback),
            StepDoc::Not(kind) => return Err(unwritable("a transform", *kind)),
        };
        let mut map = s.serialize_map(None)?;
        match uses {
            Some(Text::Is(name)) => map.serialize_entry("uses", name)?,
            Some(Text::Not(kind)) => return Err(unwritable("`uses`", *kind)),
            None => {}
        }
        if let Some(with) = with {
            map.serialize_entry("with", with)?;
        }
        if let Some(lookback) = lookback {
            map.serialize_entry("lookback", lookback)?;
        }
        map.end()
    }
}

impl Serialize for StepsDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            StepsDoc::List(steps) => {
                let mut seq = s.serialize_seq(Some(steps.len()))?;
                for step in steps {
                    seq.serialize_element(step)?;
                }
                seq.end()
            }
            StepsDoc::Not(Kind::Empty) => s.serialize_unit(),
            StepsDoc::Not(kind) => Err(unwritable("`transforms`", *kind)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> FileDoc {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn shapes_are_kept_not_refused() {
        assert_eq!(doc("- a\n"), FileDoc::Not(Kind::List));
        assert_eq!(doc(""), FileDoc::Not(Kind::Empty));
        let FileDoc::Map {
            transforms: Some(StepsDoc::List(steps)),
            unknown,
        } = doc("extra: 1\ntransforms:\n  - uses: [a]\n    with: {n: 5, b: true, m: {x: [1]}}\n")
        else {
            panic!("a map with transforms")
        };
        assert_eq!(unknown, [Key::Name("extra".into())]);
        let StepDoc::Map { uses, with, .. } = &steps[0] else {
            panic!("a step")
        };
        assert_eq!(uses, &Some(Text::Not(Kind::List)));
        assert_eq!(
            with,
            &Some(ParamsDoc::Map(vec![
                (
                    Key::Name("n".into()),
                    Param::Scalar(Kind::Number, "5".into())
                ),
                (
                    Key::Name("b".into()),
                    Param::Scalar(Kind::Bool, "true".into())
                ),
                (Key::Name("m".into()), Param::Json(r#"{"x":[1]}"#.into())),
            ]))
        );
    }

    #[test]
    fn steps_are_written_back_as_they_read() {
        let text = "- uses: mirror-policy\n  with:\n    cluster: a\n    dedup: '10'\n    \
                    json:\n      x:\n      - 1\n  lookback:\n    last: 5\n    age: 1h\n\
                    - uses: origin-strip\n";
        let steps: StepsDoc = serde_yaml::from_str(text).unwrap();
        assert_eq!(serde_yaml::to_string(&steps).unwrap(), text);
        let mut built = StepDoc::new("loop-guard", [("cluster", "a")]).lookback_last(3);
        built.set_param("max_hops", Some("4"));
        built.set_param("cluster", Some("b"));
        assert_eq!(
            serde_yaml::to_string(&built).unwrap(),
            "uses: loop-guard\nwith:\n  cluster: b\n  max_hops: '4'\nlookback:\n  last: 3\n"
        );
        built.set_param("cluster", None);
        assert!(!serde_yaml::to_string(&built).unwrap().contains("cluster"));
    }

    #[test]
    fn what_a_check_refuses_is_not_written() {
        let steps: StepsDoc =
            serde_yaml::from_str("- uses: m\n  with: {n: 5}\n- [not, a, step]\n").unwrap();
        let err = serde_yaml::to_string(&steps).unwrap_err().to_string();
        assert!(err.contains("a param is a number"), "{err}");
    }

    #[test]
    fn floats_are_written_as_yaml_writes_them() {
        assert_eq!(float_text(5.0), "5.0");
        assert_eq!(float_text(1.5), "1.5");
        assert_eq!(float_text(f64::INFINITY), ".inf");
    }
}
