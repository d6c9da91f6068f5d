//! Names in the generated scenario: request names with ids replaced
//! (`/api/v1/projects/12/` → `/api/v1/projects/[id]/`), task, variable and class names.

use std::collections::HashSet;

use super::recording::{Call, Piece};

/// Whether a path segment is an id rather than a fixed part of the route: a number, a UUID,
/// or a long token of hex digits or of letters and digits (`507f1f77bcf86cd799439011`,
/// a ULID).
pub fn is_id_segment(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    if is_uuid(s) {
        return true;
    }
    let has_digit = s.bytes().any(|b| b.is_ascii_digit());
    let has_alpha = s.bytes().any(|b| b.is_ascii_alphabetic());
    if s.len() >= 16 && has_digit && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return true;
    }
    s.len() >= 20 && has_digit && has_alpha && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The statistics name of a request whose path has ids or variables in it, with each of them
/// written `[id]`; `None` when the path is fixed (its URL is then the name).
pub fn stat_name(call: &Call) -> Option<String> {
    let mut replaced = false;
    let segments: Vec<String> = call
        .path
        .iter()
        .map(|seg| {
            if seg.has_var() || seg.as_text().is_some_and(|t| is_id_segment(&t)) {
                replaced = true;
                "[id]".to_string()
            } else {
                seg.as_text().unwrap_or_default()
            }
        })
        .collect();
    replaced.then(|| {
        format!(
            "{}{}",
            call.origin.as_deref().unwrap_or(""),
            segments.join("/")
        )
    })
}

/// Path segments that say nothing about what a request does.
fn is_noise_segment(s: &str) -> bool {
    s.is_empty()
        || s == "api"
        || s == "rest"
        || s == "graphql"
        || (s.len() >= 2 && s.starts_with('v') && s[1..].bytes().all(|b| b.is_ascii_digit()))
}

/// A task name for a page that starts with `call`: its path's words, `detail` for an id at
/// the end, and the method for anything but GET (`projects`, `projects_detail`,
/// `post_tasks`).
pub fn task_base(call: &Call) -> String {
    let mut words: Vec<String> = Vec::new();
    for (i, seg) in call.path.iter().enumerate() {
        let text = seg.as_text();
        if seg.has_var() || text.as_deref().is_some_and(is_id_segment) {
            let last = call.path[i + 1..]
                .iter()
                .all(|s| s.as_text().is_some_and(|t| t.is_empty()));
            if last {
                words.push("detail".to_string());
            }
            continue;
        }
        let text = text.unwrap_or_default();
        if !is_noise_segment(&text) {
            words.push(text);
        }
    }
    // The last two words say what the page is about.
    let keep = words.len().saturating_sub(2);
    let mut name = words[keep..].join("_");
    if name.is_empty() {
        name = "home".to_string();
    }
    if call.method != "GET" {
        name = format!("{}_{name}", call.method.to_ascii_lowercase());
    }
    ident(&name)
}

/// A name the language accepts: lowercase letters, digits and `_`, not starting with a digit.
pub fn ident(s: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            // camelCase → camel_case
            if c.is_ascii_uppercase() && prev_lower {
                out.push('_');
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_lowercase());
        } else {
            prev_lower = false;
            if !out.ends_with('_') {
                out.push('_');
            }
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() {
        "value".to_string()
    } else if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{out}")
    } else {
        out
    }
}

/// `RecordedUser`-style class name from a file name: `shop-checkout.har` → `ShopCheckout`.
pub fn class_name(stem: &str) -> String {
    let mut out = String::new();
    for word in ident(stem).split('_').filter(|w| !w.is_empty()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("Recorded{out}")
    } else {
        out
    }
}

/// `projects` → `project`, `categories` → `category`, `addresses` → `address`.
pub fn singular(word: &str) -> String {
    let w = word.to_string();
    if let Some(stem) = w.strip_suffix("ies")
        && stem.len() > 1
    {
        return format!("{stem}y");
    }
    for suffix in ["sses", "xes", "ches", "shes"] {
        if w.ends_with(suffix) {
            return w[..w.len() - 2].to_string();
        }
    }
    if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && w.len() > 1 {
        return w[..w.len() - 1].to_string();
    }
    w
}

/// The resource a request is about: the last path word before any id, singular
/// (`/api/v1/projects/12/` → `project`, `/api/v1/tasks/` → `task`).
pub fn resource(call: &Call) -> Option<String> {
    call.path
        .iter()
        .filter_map(|seg| match seg.0.as_slice() {
            [Piece::Text(t)] if !is_id_segment(t) && !is_noise_segment(t) => Some(t.clone()),
            _ => None,
        })
        .next_back()
        .map(|w| singular(&ident(&w)))
}

/// Whether a JSON key names an id (`id`, `pk`, `uuid`, `project_id`, `projectId`).
pub fn is_id_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    matches!(lower.as_str(), "id" | "pk" | "uuid" | "guid")
        || lower.ends_with("_id")
        || lower.ends_with("-id")
        || key.ends_with("Id")
        || key.ends_with("ID")
}

/// Hands out names that differ from each other: `project_id`, `project_id_2`, ...
#[derive(Default)]
pub struct Namer {
    used: HashSet<String>,
    /// The next number to try after each base name, so that many equal bases stay cheap.
    next: std::collections::HashMap<String, usize>,
}

impl Namer {
    /// A namer that never gives out `reserved`.
    pub fn reserving(reserved: &[&str]) -> Namer {
        Namer {
            used: reserved.iter().map(|s| s.to_string()).collect(),
            next: Default::default(),
        }
    }

    pub fn fresh(&mut self, base: &str) -> String {
        let base = ident(base);
        let mut name = base.clone();
        let n = self.next.entry(base.clone()).or_insert(2);
        while self.used.contains(&name) {
            name = format!("{base}_{n}");
            *n += 1;
        }
        self.used.insert(name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::recording::Template;

    fn call(method: &str, path: &str) -> Call {
        Call::bare(method, path)
    }

    #[test]
    fn ids_in_paths() {
        for id in [
            "12",
            "0",
            "550e8400-e29b-41d4-a716-446655440000",
            "507f1f77bcf86cd799439011",
            "01ARZ3NDEKTSV4RRFFQ69G5FAV",
        ] {
            assert!(is_id_segment(id), "{id}");
        }
        for word in [
            "projects",
            "v1",
            "api",
            "bulk-update",
            "deadbeef",
            "",
            "2fa",
        ] {
            assert!(!is_id_segment(word), "{word}");
        }
    }

    #[test]
    fn names_replace_ids() {
        assert_eq!(
            stat_name(&call("GET", "/api/v1/projects/12/")).as_deref(),
            Some("/api/v1/projects/[id]/")
        );
        assert_eq!(stat_name(&call("GET", "/api/v1/projects/")), None);
        let mut c = call("GET", "/api/v1/projects/12/tasks/");
        c.path[4] = Template(vec![Piece::Var("project_id".to_string())]);
        c.origin = Some("https://api.example.com".to_string());
        assert_eq!(
            stat_name(&c).as_deref(),
            Some("https://api.example.com/api/v1/projects/[id]/tasks/")
        );
    }

    #[test]
    fn task_names() {
        assert_eq!(task_base(&call("GET", "/api/v1/projects/")), "projects");
        assert_eq!(
            task_base(&call("GET", "/api/v1/projects/12/")),
            "projects_detail"
        );
        assert_eq!(
            task_base(&call("POST", "/api/v1/auth/login/")),
            "post_auth_login"
        );
        assert_eq!(task_base(&call("GET", "/")), "home");
        assert_eq!(
            task_base(&call("PATCH", "/api/v1/projects/12/tasks/7")),
            "patch_tasks_detail"
        );
    }

    #[test]
    fn identifiers() {
        assert_eq!(ident("csrfToken"), "csrf_token");
        assert_eq!(ident("X-CSRF-Token"), "x_csrf_token");
        assert_eq!(ident("2fa code"), "_2fa_code");
        assert_eq!(ident("--"), "value");
        assert_eq!(class_name("shop-checkout"), "ShopCheckout");
        assert_eq!(class_name("2024 recording"), "Recorded2024Recording");
        assert_eq!(singular("projects"), "project");
        assert_eq!(singular("categories"), "category");
        assert_eq!(singular("addresses"), "address");
        assert_eq!(singular("status"), "status");
        assert_eq!(singular("access"), "access");
        assert_eq!(
            resource(&call("GET", "/api/v1/projects/12/")).as_deref(),
            Some("project")
        );
        assert!(is_id_key("projectId") && is_id_key("owner_id") && !is_id_key("identity"));
        let mut n = Namer::reserving(&["credentials"]);
        assert_eq!(n.fresh("credentials"), "credentials_2");
        assert_eq!(n.fresh("id"), "id");
        assert_eq!(n.fresh("id"), "id_2");
    }
}
