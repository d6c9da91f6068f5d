//! A response body read as JSON, built as values only where the request's JSON paths look
//! ([`JsonShape`]): the rest is checked for syntax and skipped, with no allocation. A page
//! of 20 projects whose checks read `$.results[*].id` becomes 20 one-member objects instead
//! of some 300 values, keys and map nodes.
//!
//! The paths the shape was made from find the same values in the result as in the whole
//! document (tested below against jsonpath-rust on the full value); a value only tested
//! with `exists` is kept as `true` when it is an object or array.

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::ir::JsonShape;

/// The body as JSON, projected on `shape`; `None` when it is not JSON.
pub fn parse(body: &[u8], shape: &JsonShape) -> Option<Value> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = Shaped(shape).deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(value)
}

struct Shaped<'s>(&'s JsonShape);

impl<'de> DeserializeSeed<'de> for Shaped<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.0.whole {
            return serde::Deserialize::deserialize(d);
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Shaped<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let shape = self.0;
        if shape.keys.is_empty() && shape.members.is_none() {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Value::Bool(true));
        }
        let mut out = Map::new();
        while let Some(kept) = map.next_key_seed(Key(shape))? {
            match kept {
                Some((name, inner)) => {
                    let value = map.next_value_seed(Shaped(inner))?;
                    out.insert(name, value);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let shape = self.0;
        match shape.items.as_deref() {
            Some(items) => {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(v) = seq.next_element_seed(Shaped(items))? {
                    out.push(v);
                }
                Ok(Value::Array(out))
            }
            None => {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                // Only names are asked for, which an array does not have; or only whether
                // it is there.
                Ok(if shape.keys.is_empty() {
                    Value::Bool(true)
                } else {
                    Value::Array(Vec::new())
                })
            }
        }
    }
}

/// An object's key: the shape of its value when it is wanted (the key copied only then).
struct Key<'s>(&'s JsonShape);

impl<'de, 's> DeserializeSeed<'de> for Key<'s> {
    type Value = Option<(String, &'s JsonShape)>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 's> Visitor<'de> for Key<'s> {
    type Value = Option<(String, &'s JsonShape)>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        let shape = self
            .0
            .keys
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, s)| s)
            .or(self.0.members.as_deref());
        Ok(shape.map(|s| (key.to_owned(), s)))
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    fn query(path: &str) -> jsonpath_rust::parser::model::JpQuery {
        jsonpath_rust::parser::parse_json_path(path).unwrap()
    }

    fn found(path: &str, doc: &Value) -> Vec<Value> {
        jsonpath_rust::query::js_path_process(&query(path), doc)
            .map(|r| r.into_iter().map(|q| q.val().clone()).collect())
            .unwrap_or_default()
    }

    const PATHS: &[&str] = &[
        "$",
        "$.id",
        "$.results",
        "$.results[*].id",
        "$.results[0]",
        "$.results[-1].name",
        "$.results[1:3].tags[*]",
        "$.results[*].owner.id",
        "$['a b', 'id']",
        "$.*",
        "$.*.id",
        "$.*[*]",
        "$..id",
        "$.results[?@.id > 2].name",
        "$.data.items[*].value",
        "$.missing.deeper",
        "$.id.not_an_object",
    ];

    fn random_value(rng: &mut SmallRng, depth: u32) -> Value {
        let names = [
            "id", "results", "name", "tags", "owner", "data", "items", "value", "a b",
        ];
        match rng.random_range(0..if depth > 3 { 5 } else { 8 }) {
            0 => Value::Null,
            1 => Value::Bool(rng.random()),
            2 => Value::from(rng.random_range(-5i64..50)),
            3 => Value::from(rng.random_range(0.0..10.0f64)),
            4 => Value::String(format!("s\"{}\u{e9}", rng.random_range(0..9))),
            5 | 6 => {
                let mut m = Map::new();
                for _ in 0..rng.random_range(0..5) {
                    let k = names[rng.random_range(0..names.len())];
                    m.insert(k.to_string(), random_value(rng, depth + 1));
                }
                Value::Object(m)
            }
            _ => Value::Array(
                (0..rng.random_range(0..5))
                    .map(|_| random_value(rng, depth + 1))
                    .collect(),
            ),
        }
    }

    #[test]
    fn each_path_finds_in_the_projection_what_it_finds_in_the_whole() {
        let mut rng = SmallRng::seed_from_u64(7);
        for round in 0..400 {
            let doc = random_value(&mut rng, 0);
            let text = serde_json::to_vec(&doc).unwrap();
            // One path alone, and all of them together (the union of their shapes).
            let mut all = JsonShape::default();
            for path in PATHS {
                let mut one = JsonShape::default();
                one.add(&query(path), false);
                all.add(&query(path), false);
                let projected = parse(&text, &one).unwrap();
                assert_eq!(
                    found(path, &projected),
                    found(path, &doc),
                    "round {round}, {path} in {doc}"
                );
            }
            let projected = parse(&text, &all).unwrap();
            for path in PATHS {
                assert_eq!(
                    found(path, &projected),
                    found(path, &doc),
                    "{path} in {doc}"
                );
            }
        }
    }

    #[test]
    fn an_exists_check_sees_what_is_there_and_not_null() {
        let mut rng = SmallRng::seed_from_u64(11);
        let exists = |v: &[Value]| v.first().is_some_and(|v| !v.is_null());
        for _ in 0..400 {
            let doc = random_value(&mut rng, 0);
            let text = serde_json::to_vec(&doc).unwrap();
            for path in PATHS {
                let mut shape = JsonShape::default();
                shape.add(&query(path), true);
                let projected = parse(&text, &shape).unwrap();
                assert_eq!(
                    exists(&found(path, &projected)),
                    exists(&found(path, &doc)),
                    "{path} in {doc}"
                );
            }
        }
    }

    #[test]
    fn only_what_the_paths_reach_is_built() {
        let page = r#"{"count": 2, "next": null, "results": [
            {"id": 1, "name": "Alpha", "tags": ["x"], "owner": {"id": 9}},
            {"id": 2, "name": "Beta", "tags": [], "owner": {"id": 8}}]}"#;
        let mut shape = JsonShape::default();
        shape.add(&query("$.results[*].id"), false);
        shape.add(&query("$.count"), true);
        let projected = parse(page.as_bytes(), &shape).unwrap();
        assert_eq!(
            projected,
            serde_json::json!({"count": 2, "results": [{"id": 1}, {"id": 2}]})
        );
    }

    #[test]
    fn a_named_member_is_also_one_of_every_member() {
        // `results` is named by one path and reached through `*` by the other.
        let doc = serde_json::json!({"results": {"id": 3, "name": "n"}, "other": {"id": 4}});
        let mut shape = JsonShape::default();
        shape.add(&query("$.results[0]"), false);
        shape.add(&query("$.*.id"), false);
        let projected = parse(doc.to_string().as_bytes(), &shape).unwrap();
        assert_eq!(found("$.*.id", &projected), found("$.*.id", &doc));
        assert_eq!(found("$.*.id", &projected).len(), 2);
    }

    #[test]
    fn what_is_not_json_is_none() {
        let mut shape = JsonShape::default();
        shape.add(&query("$.id"), false);
        for text in ["", "{", "{\"id\": 1} trailing", "<html>", "{\"a\": [1,}"] {
            assert_eq!(parse(text.as_bytes(), &shape), None, "{text}");
        }
        assert_eq!(
            parse(b" {\"id\": 1}\n", &shape),
            Some(serde_json::json!({"id": 1}))
        );
    }
}
