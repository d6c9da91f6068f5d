//! Reading a JSON request body the way a DRF serializer does: every field checked, every
//! complaint collected, then one 400 with all of them.

use axum::http::{HeaderMap, header};
use bytes::Bytes;
use chrono::{NaiveDate, NaiveTime};
use serde_json::{Map, Value};

use super::error::{ApiError, FieldError, FieldErrors};

/// Parses `body` as a JSON object. An empty body is an empty object, as in DRF.
pub(crate) fn json_object(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Map<String, Value>, ApiError> {
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        let media = content_type.to_str().unwrap_or_default();
        let essence = media.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::UnsupportedMediaType(media.to_owned()));
        }
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => {
            let mut errors = FieldErrors::default();
            errors.add(
                "non_field_errors",
                FieldError::NotAnObject(type_name(&other)),
            );
            Err(ApiError::Fields(errors))
        }
        Err(error) => Err(ApiError::JsonParse(error.to_string())),
    }
}

/// Python's name for a JSON value's type, which is what DRF puts in its messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Whether a field must be present. A PATCH reads every field as `Optional`: absent fields keep
/// their value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    Required,
    Optional,
}

/// A JSON object being validated; collects errors instead of stopping at the first.
pub(crate) struct Fields {
    map: Map<String, Value>,
    pub(crate) errors: FieldErrors,
}

impl Fields {
    pub(crate) fn new(map: Map<String, Value>) -> Fields {
        Fields {
            map,
            errors: FieldErrors::default(),
        }
    }

    /// The raw value, `None` when absent; records `Required` if it had to be there.
    fn value(&mut self, name: &'static str, presence: Presence) -> Option<Value> {
        let value = self.map.remove(name);
        if value.is_none() && presence == Presence::Required {
            self.errors.add(name, FieldError::Required);
        }
        value
    }

    /// A `CharField`: numbers are accepted as text, like DRF does.
    pub(crate) fn text(
        &mut self,
        name: &'static str,
        presence: Presence,
        allow_blank: bool,
        max_len: usize,
    ) -> Option<String> {
        let text = match self.value(name, presence)? {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Null => {
                self.errors.add(name, FieldError::Null);
                return None;
            }
            _ => {
                self.errors.add(name, FieldError::NotAString);
                return None;
            }
        };
        let text = text.trim().to_owned();
        if text.is_empty() && !allow_blank {
            self.errors.add(name, FieldError::Blank);
            None
        } else if text.chars().count() > max_len {
            self.errors.add(name, FieldError::TooLong { max: max_len });
            None
        } else {
            Some(text)
        }
    }

    /// A `ChoiceField` over `choices`, returning the matching choice.
    pub(crate) fn choice<T: Copy>(
        &mut self,
        name: &'static str,
        presence: Presence,
        choices: &[(T, &str)],
    ) -> Option<T> {
        let value = self.value(name, presence)?;
        choice_of(&value, choices).or_else(|| {
            self.errors
                .add(name, FieldError::InvalidChoice(display_value(&value)));
            None
        })
    }

    /// A `PrimaryKeyRelatedField`: an integer or a string of digits naming an existing row.
    /// `Ok(None)` is an explicit `null`, allowed only where `nullable`.
    pub(crate) fn pk(
        &mut self,
        name: &'static str,
        presence: Presence,
        nullable: bool,
        exists: impl Fn(u64) -> bool,
    ) -> Option<Option<u64>> {
        let value = self.value(name, presence)?;
        match pk_of(&value) {
            Ok(Some(id)) if exists(id) => Some(Some(id)),
            Ok(Some(_)) => {
                self.errors
                    .add(name, FieldError::InvalidPk(display_value(&value)));
                None
            }
            Ok(None) if nullable => Some(None),
            Ok(None) => {
                self.errors.add(name, FieldError::Null);
                None
            }
            Err(error) => {
                self.errors.add(name, error);
                None
            }
        }
    }

    /// A `DateField` in ISO 8601 (`YYYY-MM-DD`). `Ok(None)` is an explicit `null` where allowed.
    pub(crate) fn date(
        &mut self,
        name: &'static str,
        presence: Presence,
        nullable: bool,
    ) -> Option<Option<NaiveDate>> {
        match self.value(name, presence)? {
            Value::Null if nullable => Some(None),
            Value::Null => {
                self.errors.add(name, FieldError::Null);
                None
            }
            Value::String(s) => match parse_date(&s) {
                Some(date) => Some(Some(date)),
                None => {
                    self.errors.add(name, FieldError::DateFormat);
                    None
                }
            },
            _ => {
                self.errors.add(name, FieldError::DateFormat);
                None
            }
        }
    }

    /// A `TimeField` in ISO 8601 (`hh:mm[:ss[.uuuuuu]]`). `Ok(None)` is an explicit `null`.
    pub(crate) fn time(
        &mut self,
        name: &'static str,
        presence: Presence,
        nullable: bool,
    ) -> Option<Option<NaiveTime>> {
        match self.value(name, presence)? {
            Value::Null if nullable => Some(None),
            Value::Null => {
                self.errors.add(name, FieldError::Null);
                None
            }
            Value::String(s) => match parse_time(&s) {
                Some(time) => Some(Some(time)),
                None => {
                    self.errors.add(name, FieldError::TimeFormat);
                    None
                }
            },
            _ => {
                self.errors.add(name, FieldError::TimeFormat);
                None
            }
        }
    }

    /// A non-empty `ListField` of integers, at most `max` long.
    pub(crate) fn id_list(&mut self, name: &'static str, max: usize) -> Option<Vec<u64>> {
        let items = match self.value(name, Presence::Required)? {
            Value::Array(items) => items,
            other => {
                self.errors
                    .add(name, FieldError::NotAList(type_name(&other)));
                return None;
            }
        };
        if items.is_empty() {
            self.errors.add(name, FieldError::EmptyList);
            return None;
        }
        if items.len() > max {
            self.errors.add(name, FieldError::TooManyItems { max });
            return None;
        }
        let ids: Option<Vec<u64>> = items
            .iter()
            .map(|item| pk_of(item).ok().flatten())
            .collect();
        if ids.is_none() {
            self.errors.add(name, FieldError::NotAnInteger);
        }
        ids
    }

    /// Takes the raw value for a field whose meaning depends on another field.
    pub(crate) fn raw(&mut self, name: &'static str, presence: Presence) -> Option<Value> {
        self.value(name, presence)
    }

    /// Ends validation: `Err` with every collected message, if any.
    pub(crate) fn finish(self) -> Result<(), ApiError> {
        self.errors.into_result()
    }
}

/// The choice `value` names, if any. Choices are matched on their exact label, like Django.
pub(crate) fn choice_of<T: Copy>(value: &Value, choices: &[(T, &str)]) -> Option<T> {
    let Value::String(text) = value else {
        return None;
    };
    choices
        .iter()
        .find(|(_, label)| *label == text)
        .map(|(choice, _)| *choice)
}

/// How DRF quotes a rejected value in a message: strings bare, other JSON as written.
pub(crate) fn display_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A primary key: `Ok(None)` for `null`.
fn pk_of(value: &Value) -> Result<Option<u64>, FieldError> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .map(Some)
            .ok_or(FieldError::IncorrectPkType(type_name(value))),
        Value::String(s) => s
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| FieldError::IncorrectPkType("str")),
        other => Err(FieldError::IncorrectPkType(type_name(other))),
    }
}

/// `YYYY-MM-DD` (Django also takes one-digit month and day), DRF's default date input format.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// `hh:mm`, `hh:mm:ss` or `hh:mm:ss.ffffff`.
pub(crate) fn parse_time(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    NaiveTime::parse_from_str(text, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> Fields {
        let Value::Object(map) = value else {
            unreachable!("test input is an object")
        };
        Fields::new(map)
    }

    #[test]
    fn dates_and_times_follow_drf_iso_formats() {
        let cases = [
            ("2025-03-09", true),
            ("2025-3-9", true),
            ("2025-13-01", false),
            ("09/03/2025", false),
            ("2024-02-29", true),
        ];
        for (text, ok) in cases {
            assert_eq!(parse_date(text).is_some(), ok, "{text}");
        }
        let cases = [
            ("08:00", true),
            ("08:00:30", true),
            ("08:00:30.5", true),
            ("25:00", false),
            ("8am", false),
        ];
        for (text, ok) in cases {
            assert_eq!(parse_time(text).is_some(), ok, "{text}");
        }
    }

    #[test]
    fn every_field_error_is_collected() {
        let mut f = fields(json!({"title": "", "project": "abc", "status": "Done"}));
        let choices = [(1, "Pending")];
        assert_eq!(f.text("title", Presence::Required, false, 10), None);
        assert_eq!(f.pk("project", Presence::Required, false, |_| true), None);
        assert_eq!(f.choice("status", Presence::Optional, &choices), None);
        assert_eq!(f.text("description", Presence::Required, true, 10), None);
        let Err(ApiError::Fields(errors)) = f.finish() else {
            panic!("expected field errors")
        };
        for field in ["title", "project", "status", "description"] {
            assert!(errors.has(field), "{field}");
        }
    }

    #[test]
    fn absent_optional_fields_are_fine() {
        let mut f = fields(json!({"project": "7"}));
        assert_eq!(
            f.pk("project", Presence::Required, false, |id| id == 7),
            Some(Some(7))
        );
        assert_eq!(f.date("due_date", Presence::Optional, true), None);
        assert!(f.finish().is_ok());
    }
}
