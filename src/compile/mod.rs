//! AST → IR. Validates everything the runtime relies on and collects every mistake as a
//! diagnostic in one pass (never stopping at the first), sorted by position.

mod error;
mod expr;
pub mod quantity;
mod request;
mod secret;
#[cfg(test)]
mod tests;
mod threshold;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::diagnostic::{self, Diagnostic, did_you_mean};
use crate::ir::{self, VarId};
use crate::metrics::{StatId, StatKey};
use crate::span::Span;
use crate::syntax::ast;

pub use request::METHODS;
pub use secret::{is_secret_name, reads_secret};
pub use threshold::{METRICS, compile_threshold_line};

/// Where relative paths (data files, multipart files) are resolved.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub base_dir: PathBuf,
    /// Files given in memory (path relative to the scenario → contents), read before the
    /// disk: a scenario shipped inside the binary brings its data files along.
    pub files: Vec<(PathBuf, &'static [u8])>,
}

impl Context {
    pub fn for_file(path: &Path) -> Context {
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Context {
            base_dir,
            files: Vec::new(),
        }
    }

    /// The contents of `relative` (a path as written in the scenario).
    pub fn read(&self, relative: &str) -> std::io::Result<Vec<u8>> {
        let wanted = Path::new(relative);
        match self.files.iter().find(|(p, _)| p == wanted) {
            Some((_, bytes)) => Ok(bytes.to_vec()),
            None => std::fs::read(self.base_dir.join(wanted)),
        }
    }
}

/// The compiled plan (when there were no errors) and every diagnostic, sorted.
pub struct Output {
    pub plan: Option<ir::Plan>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses and compiles a source text.
pub fn compile_source(source: &str, ctx: &Context) -> Output {
    match crate::syntax::parse(source) {
        Ok(file) => compile(&file, source, ctx),
        Err(d) => Output {
            plan: None,
            diagnostics: vec![d],
        },
    }
}

pub fn compile(file: &ast::File, source: &str, ctx: &Context) -> Output {
    let mut c = Compiler::new(source, ctx);
    let mut plan = c.file(file);
    secret::hide_secret_checks(&mut plan);
    secret::mask_written_secrets(&mut plan);
    let mut diagnostics = c.diags;
    diagnostic::sort(&mut diagnostics);
    let failed = diagnostics.iter().any(Diagnostic::is_error);
    Output {
        plan: if failed { None } else { Some(plan) },
        diagnostics,
    }
}

/// What a variable reference may resolve to while compiling one class.
#[derive(Default, Clone)]
struct Scope {
    vars: BTreeSet<String>,
}

struct FeedInfo {
    span: Span,
    used: bool,
    /// Its file could not be read (already reported): uses of it report nothing more.
    broken: bool,
}

pub(crate) struct Compiler<'a> {
    source: &'a str,
    /// Line starts, for the `line:column` each request keeps.
    lines: crate::span::LineIndex,
    ctx: &'a Context,
    diags: Vec<Diagnostic>,
    var_ids: HashMap<String, VarId>,
    var_names: Vec<String>,
    feeds: Vec<ir::Feed>,
    feed_info: Vec<FeedInfo>,
    stats: Vec<StatKey>,
    request_count: usize,
    stat_ids: HashMap<(String, String), StatId>,
    /// Variables read anywhere (for the unused-capture warning).
    used_vars: BTreeSet<String>,
    /// Captures by name, with the span of the first one (for the warning).
    captures: Vec<(String, Span)>,
    /// Feeds referenced while compiling the current class.
    class_feeds: BTreeSet<ir::FeedId>,
    scope: Scope,
    /// Files the scenario reads (data feeds, multipart files), as written.
    files: BTreeSet<String>,
    /// Variables whose values are secrets (see `redact`).
    secret_vars: BTreeSet<VarId>,
    /// Values written in the file that are secrets (see `secret`).
    secret_literals: BTreeSet<String>,
}

impl<'a> Compiler<'a> {
    fn new(source: &'a str, ctx: &'a Context) -> Self {
        Compiler {
            source,
            lines: crate::span::LineIndex::new(source),
            ctx,
            diags: Vec::new(),
            var_ids: HashMap::new(),
            var_names: Vec::new(),
            feeds: Vec::new(),
            feed_info: Vec::new(),
            stats: Vec::new(),
            request_count: 0,
            stat_ids: HashMap::new(),
            used_vars: BTreeSet::new(),
            captures: Vec::new(),
            class_feeds: BTreeSet::new(),
            scope: Scope::default(),
            files: BTreeSet::new(),
            secret_vars: BTreeSet::new(),
            secret_literals: BTreeSet::new(),
        }
    }

    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Records the error if any and gives back the value.
    fn ok<T>(&mut self, r: Result<T, Diagnostic>) -> Option<T> {
        r.map_err(|d| self.error(d)).ok()
    }

    fn text(&self, span: Span) -> &'a str {
        self.source.get(span.start..span.end).unwrap_or("")
    }

    fn var(&mut self, name: &str) -> VarId {
        if let Some(id) = self.var_ids.get(name) {
            return *id;
        }
        let id = self.var_names.len() as VarId;
        self.var_names.push(name.to_string());
        self.var_ids.insert(name.to_string(), id);
        id
    }

    fn stat(&mut self, method: &str, name: &str, tags: &[String]) -> StatId {
        let key = (method.to_string(), name.to_string());
        if let Some(id) = self.stat_ids.get(&key) {
            let entry = &mut self.stats[*id as usize];
            for t in tags {
                if !entry.tags.contains(t) {
                    entry.tags.push(t.clone());
                }
            }
            return *id;
        }
        let id = self.stats.len() as StatId;
        self.stats.push(StatKey {
            method: method.to_string(),
            name: name.to_string(),
            tags: tags.to_vec(),
        });
        self.stat_ids.insert(key, id);
        id
    }

    fn file(&mut self, file: &ast::File) -> ir::Plan {
        let mut scenario: Option<&ast::Scenario> = None;
        let mut load: Option<&ast::LoadBlock> = None;
        let mut users = Vec::new();
        let mut thresholds = Vec::new();
        for item in &file.items {
            match item {
                ast::Item::Scenario(s) => match scenario {
                    Some(first) => self.error(error::duplicate_block(
                        "scenario",
                        keyword_span(s.span, "scenario"),
                        keyword_span(first.span, "scenario"),
                    )),
                    None => scenario = Some(s),
                },
                ast::Item::Load(l) => match load {
                    Some(first) => self.error(error::duplicate_block(
                        "load",
                        keyword_span(l.span, "load"),
                        keyword_span(first.span, "load"),
                    )),
                    None => load = Some(l),
                },
                ast::Item::Data(d) => self.data(d),
                ast::Item::User(u) => users.push(u),
                ast::Item::Thresholds(t) => thresholds.extend(t.thresholds.iter()),
            }
        }

        let settings = scenario
            .map(|s| self.settings(&s.settings, "scenario"))
            .unwrap_or_default();
        let name = scenario
            .and_then(|s| s.name.literal())
            .unwrap_or_else(|| "kload scenario".to_string());
        let host = settings
            .host
            .as_ref()
            .and_then(|t| t.as_literal().map(str::to_string));
        if let (Some(t), Some(span)) = (&settings.host, settings.host_span) {
            match t.as_literal() {
                Some(h) => {
                    if let Err(reason) = check_host(h) {
                        self.error(error::invalid_url(h, span, &reason));
                    }
                }
                None => {
                    let span = scenario
                        .and_then(|s| {
                            s.settings.iter().find_map(|x| match x {
                                ast::Setting::Host { url, .. } => {
                                    Some(self.interpolation_span(url))
                                }
                                _ => None,
                            })
                        })
                        .unwrap_or(span);
                    self.error(
                        error::interpolation_not_allowed("the scenario host", span).with_help(
                            "the host is checked when the scenario is compiled: write it out, \
                             or pass it per run with `--host`",
                        ),
                    )
                }
            }
        }

        if users.is_empty() {
            let span = file.items.first().map_or(Span::new(0, 0), |i| {
                Span::new(i.span().start, i.span().start)
            });
            self.error(error::no_user_classes(span));
        }
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for u in &users {
            if let Some(first) = seen.get(u.name.name.as_str()) {
                self.error(error::duplicate_name(
                    "user class",
                    &u.name.name,
                    u.name.span,
                    *first,
                ));
            } else {
                seen.insert(&u.name.name, u.name.span);
            }
        }
        let classes: Vec<ir::UserClass> = users.iter().map(|u| self.class(u, &settings)).collect();

        for (name, span) in std::mem::take(&mut self.captures) {
            if !self.used_vars.contains(&name) {
                self.diags.push(error::unused_capture(&name, span));
            }
        }
        for (i, info) in self.feed_info.iter().enumerate() {
            if !info.used {
                let name = self.feeds[i].name.clone();
                self.diags.push(error::unused_feed(&name, info.span));
            }
        }

        let thresholds = thresholds
            .into_iter()
            .filter_map(|t| self.threshold(t))
            .collect();
        let load = load.map(|l| self.load(l)).unwrap_or_default();
        ir::Plan {
            name,
            host,
            default_timeout: settings.timeout.unwrap_or(Duration::from_secs(30)),
            classes,
            feeds: std::mem::take(&mut self.feeds),
            variables: self.var_names.clone(),
            request_count: self.request_count,
            stats: std::mem::take(&mut self.stats),
            thresholds,
            load,
            files: std::mem::take(&mut self.files).into_iter().collect(),
            secret_vars: (0..self.var_names.len())
                .map(|i| self.secret_vars.contains(&(i as VarId)))
                .collect(),
            secret_literals: std::mem::take(&mut self.secret_literals)
                .into_iter()
                .collect(),
        }
    }

    fn data(&mut self, d: &ast::DataDecl) {
        if let Some(i) = self.feeds.iter().position(|f| f.name == d.name.name) {
            let first = self.feed_info[i].span;
            self.error(error::duplicate_name(
                "data feed",
                &d.name.name,
                d.name.span,
                first,
            ));
            return;
        }
        let Some(path) = d.path.literal() else {
            let span = self.interpolation_span(&d.path);
            self.error(error::interpolation_not_allowed("a data file path", span));
            self.broken_feed(d);
            return;
        };
        let read = self
            .ctx
            .read(&path)
            .map_err(|e| e.to_string())
            .map(|bytes| {
                csv::ReaderBuilder::new()
                    .flexible(false)
                    .from_reader(std::io::Cursor::new(bytes))
            });
        if read.is_ok() {
            self.files.insert(path.clone());
        }
        let mut reader = match read {
            Ok(r) => r,
            Err(e) => {
                let similar = self.similar_file(&path);
                self.error(error::missing_data_file(
                    &path,
                    d.path.span,
                    &io_reason(&e.to_string()),
                    similar.as_deref(),
                ));
                self.broken_feed(d);
                return;
            }
        };
        let columns: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(|c| c.trim().to_string()).collect(),
            Err(e) => {
                self.error(error::missing_data_file(
                    &path,
                    d.path.span,
                    &e.to_string(),
                    None,
                ));
                self.broken_feed(d);
                return;
            }
        };
        let mut rows = Vec::new();
        for record in reader.records() {
            match record {
                Ok(r) => rows.push(r.iter().map(str::to_string).collect::<Vec<_>>()),
                Err(e) => {
                    self.error(error::missing_data_file(
                        &path,
                        d.path.span,
                        &format!("not valid CSV: {e}"),
                        None,
                    ));
                    self.broken_feed(d);
                    return;
                }
            }
        }
        if rows.is_empty() {
            self.error(error::empty_data_file(&path, d.path.span));
        }
        self.feeds.push(ir::Feed {
            name: d.name.name.clone(),
            mode: d.mode.map_or(ast::FeedMode::Cycle, |(m, _)| m),
            path,
            columns,
            rows: Arc::new(rows),
        });
        self.feed_info.push(FeedInfo {
            span: d.name.span,
            used: false,
            broken: false,
        });
    }

    /// A file in the folder of a missing one, with a similar name (`acounts.csv` for
    /// `accounts.csv`), as it would be written in the scenario.
    fn similar_file(&self, path: &str) -> Option<String> {
        let wanted = Path::new(path);
        let name = wanted.file_name()?.to_str()?;
        let dir = wanted.parent().unwrap_or(Path::new(""));
        let mut names: Vec<String> = std::fs::read_dir(self.ctx.base_dir.join(dir))
            .ok()?
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        let best = did_you_mean(name, names.iter().map(String::as_str))?;
        Some(dir.join(best).to_string_lossy().into_owned())
    }

    /// Declares a feed whose file could not be read, so that its uses are not reported
    /// as unknown feeds on top of the error already given.
    fn broken_feed(&mut self, d: &ast::DataDecl) {
        self.feeds.push(ir::Feed {
            name: d.name.name.clone(),
            mode: ast::FeedMode::Cycle,
            path: String::new(),
            columns: Vec::new(),
            rows: Arc::new(Vec::new()),
        });
        self.feed_info.push(FeedInfo {
            span: d.name.span,
            used: true,
            broken: true,
        });
    }

    fn settings(&mut self, settings: &[ast::Setting], _scope: &str) -> Settings {
        let mut out = Settings::default();
        let mut authorization = AuthorizationSpans::default();
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        let mut once = |c: &mut Self, key: &'static str, span: Span| -> bool {
            if let Some(first) = seen.get(key) {
                c.error(error::duplicate_setting(key, span, *first));
                false
            } else {
                seen.insert(key, span);
                true
            }
        };
        for s in settings {
            match s {
                ast::Setting::Host { url, span } => {
                    if once(self, "host", *span) {
                        let host = self.template(url);
                        if let Some(lit) = host.as_literal() {
                            let lit = lit.to_string();
                            self.url_credentials(&lit);
                        }
                        out.host = Some(host);
                        out.host_span = Some(url.span);
                    }
                }
                ast::Setting::Timeout { value, span } => {
                    if once(self, "timeout", *span) {
                        out.timeout = self.ok(quantity::duration(value));
                    }
                }
                ast::Setting::Wait(w) => {
                    if once(self, "wait", w.span) {
                        out.wait = self.wait(w);
                    }
                }
                ast::Setting::Header(h) => {
                    if h.name.name.eq_ignore_ascii_case("authorization") {
                        authorization.header(self, h.span);
                    }
                    if let Some(h) = self.header(h) {
                        out.headers.push(h);
                    }
                }
                ast::Setting::Auth(a) => {
                    authorization.auth(self, a.span);
                    if let Some(h) = self.auth(a) {
                        out.headers.push(h);
                    }
                }
                ast::Setting::Let(l) => {
                    let value = self.expr(&l.value);
                    let id = self.var(&l.name.name);
                    self.secret_var(l.secret, id, Some(&value));
                    self.scope.vars.insert(l.name.name.clone());
                    out.lets.push((id, value));
                }
            }
        }
        out
    }

    fn wait(&mut self, w: &ast::Wait) -> Option<ir::WaitTime> {
        Some(match &w.kind {
            ast::WaitKind::Between(a, b) => {
                let (a, b) = (
                    self.ok(quantity::duration(a)),
                    self.ok(quantity::duration(b)),
                );
                let (a, b) = (a?, b?);
                if a > b {
                    self.error(error::invalid_wait("wait time", w.span));
                    return None;
                }
                ir::WaitTime::Between(a, b)
            }
            ast::WaitKind::Constant(q) => ir::WaitTime::Constant(self.ok(quantity::duration(q))?),
            ast::WaitKind::Pacing(q) => ir::WaitTime::Pacing(self.ok(quantity::duration(q))?),
            ast::WaitKind::Throughput(q) => {
                ir::WaitTime::Throughput(self.ok(quantity::positive(q, "throughput"))?)
            }
        })
    }

    fn class(&mut self, u: &ast::UserClass, scenario: &Settings) -> ir::UserClass {
        self.class_feeds.clear();
        // Scenario lets are evaluated per user, so their feed references count for every class.
        let scenario_scope = self.scope.clone();
        let (mut weight, mut fixed_count, mut tags) = (1u32, None, Vec::new());
        let mut weight_span = None;
        for opt in &u.options {
            match opt {
                ast::ClassOption::Weight { value, span } => {
                    weight_span = Some(*span);
                    match value.text.parse::<u32>() {
                        Ok(w) if w > 0 => weight = w,
                        _ => self.error(error::invalid_weight("weight", &value.text, value.span)),
                    }
                }
                ast::ClassOption::Count { value, span } => {
                    if let Some(ws) = weight_span {
                        self.error(error::weight_and_count(ws, *span));
                    }
                    fixed_count = self
                        .ok(quantity::count(value, "count", 0))
                        .map(|n| n as u32);
                }
                ast::ClassOption::Tags { tags: t, .. } => {
                    tags.extend(t.iter().map(|i| i.name.clone()))
                }
            }
        }
        if let (Some(ws), Some(ast::ClassOption::Count { span, .. })) = (
            weight_span,
            u.options
                .iter()
                .find(|o| matches!(o, ast::ClassOption::Count { .. })),
        ) && span.start < ws.start
        {
            self.error(error::weight_and_count(ws, *span));
        }

        // Everything any task or on start can set is visible in tasks (a capture in one
        // task is there for the next); on start only sees what came before it.
        let mut task_defs = BTreeSet::new();
        for item in &u.items {
            match item {
                ast::UserItem::OnStart(b) => collect_defs(&b.steps, &mut task_defs),
                ast::UserItem::Task(t) => collect_defs(&t.steps, &mut task_defs),
                ast::UserItem::Sequence(s) => s
                    .tasks
                    .iter()
                    .for_each(|t| collect_defs(&t.steps, &mut task_defs)),
                _ => {}
            }
        }
        // Class headers may use what tasks capture (`Bearer {{ token }}`): a class header
        // is sent once every variable it uses is set.
        let settings: Vec<ast::Setting> = u
            .items
            .iter()
            .filter_map(|i| {
                if let ast::UserItem::Setting(s) = i {
                    Some(s.clone())
                } else {
                    None
                }
            })
            .collect();
        let outer = self.scope.clone();
        self.scope.vars.extend(task_defs.iter().cloned());
        let class_settings = self.settings(&settings, "user");
        let class_lets: BTreeSet<String> =
            self.scope.vars.difference(&outer.vars).cloned().collect();
        self.scope = outer;
        self.scope
            .vars
            .extend(class_lets.into_iter().filter(|v| !task_defs.contains(v)));
        let class_scope = self.scope.clone();

        let mut on_start = Vec::new();
        let mut on_stop_blocks = Vec::new();
        let mut tasks = Vec::new();
        let mut task_names: HashMap<String, Span> = HashMap::new();
        for item in &u.items {
            match item {
                ast::UserItem::OnStart(b) => {
                    self.scope = class_scope.clone();
                    on_start.extend(self.steps(&b.steps, &tags));
                }
                ast::UserItem::OnStop(b) => on_stop_blocks.push(b),
                ast::UserItem::Task(t) => {
                    if let Some(first) = task_names.insert(t.name.name.clone(), t.name.span) {
                        self.error(error::duplicate_name(
                            "task",
                            &t.name.name,
                            t.name.span,
                            first,
                        ));
                    }
                    self.scope = class_scope.clone();
                    self.scope.vars.extend(task_defs.iter().cloned());
                    tasks.push(self.task(t, &tags));
                }
                ast::UserItem::Sequence(s) => {
                    if let Some(first) = task_names.insert(s.name.name.clone(), s.name.span) {
                        self.error(error::duplicate_name(
                            "task",
                            &s.name.name,
                            s.name.span,
                            first,
                        ));
                    }
                    self.scope = class_scope.clone();
                    self.scope.vars.extend(task_defs.iter().cloned());
                    tasks.push(self.sequence(s, &tags));
                }
                ast::UserItem::Setting(_) => {}
            }
        }
        let mut on_stop = Vec::new();
        for b in on_stop_blocks {
            self.scope = class_scope.clone();
            self.scope.vars.extend(task_defs.iter().cloned());
            on_stop.extend(self.steps(&b.steps, &tags));
        }
        if tasks.is_empty() {
            self.diags
                .push(error::class_without_tasks(&u.name.name, u.name.span));
        }
        self.scope = scenario_scope;

        let mut headers: Vec<ir::HeaderTemplate> = Vec::new();
        for h in scenario.headers.iter().chain(&class_settings.headers) {
            headers.retain(|x| x.name != h.name);
            headers.push(h.clone());
        }
        let mut lets = scenario.lets.clone();
        lets.extend(class_settings.lets);
        ir::UserClass {
            name: u.name.name.clone(),
            weight,
            fixed_count,
            tags,
            wait: class_settings
                .wait
                .or(scenario.wait)
                .unwrap_or(ir::WaitTime::Constant(Duration::ZERO)),
            host: class_settings.host,
            headers,
            lets,
            feeds: self.class_feeds.iter().copied().collect(),
            on_start,
            on_stop,
            tasks,
            span: u.span,
        }
    }

    fn task_options(
        &mut self,
        options: &[ast::ClassOption],
        inherited: &[String],
    ) -> (u32, Vec<String>) {
        let mut weight = 1;
        let mut tags = inherited.to_vec();
        for opt in options {
            match opt {
                ast::ClassOption::Weight { value, .. } => match value.text.parse::<u32>() {
                    Ok(w) if w > 0 => weight = w,
                    _ => self.error(error::invalid_weight(
                        "task weight",
                        &value.text,
                        value.span,
                    )),
                },
                ast::ClassOption::Count { span, .. } => self.error(error::invalid_load(
                    *span,
                    "`count` is for user classes",
                    "give tasks a `weight` instead",
                )),
                ast::ClassOption::Tags { tags: t, .. } => {
                    for i in t {
                        if !tags.contains(&i.name) {
                            tags.push(i.name.clone());
                        }
                    }
                }
            }
        }
        (weight, tags)
    }

    fn task(&mut self, t: &ast::Task, class_tags: &[String]) -> ir::Task {
        let (weight, tags) = self.task_options(&t.options, class_tags);
        let steps = self.steps(&t.steps, &tags);
        if !has_request(&t.steps) {
            self.diags
                .push(error::task_without_requests(&t.name.name, t.name.span));
        }
        ir::Task {
            name: t.name.name.clone(),
            weight,
            tags,
            body: ir::TaskBody::Steps(steps),
            span: t.span,
        }
    }

    fn sequence(&mut self, s: &ast::Sequence, class_tags: &[String]) -> ir::Task {
        let (weight, tags) = self.task_options(&s.options, class_tags);
        let mut inner = Vec::new();
        let mut names: HashMap<String, Span> = HashMap::new();
        for t in &s.tasks {
            if let Some(first) = names.insert(t.name.name.clone(), t.name.span) {
                self.error(error::duplicate_name(
                    "task",
                    &t.name.name,
                    t.name.span,
                    first,
                ));
            }
            let (_, inner_tags) = self.task_options(&t.options, &tags);
            inner.push((t.name.name.clone(), self.steps(&t.steps, &inner_tags)));
        }
        ir::Task {
            name: s.name.name.clone(),
            weight,
            tags,
            body: ir::TaskBody::Sequence(inner),
            span: s.span,
        }
    }

    fn steps(&mut self, steps: &[ast::Step], tags: &[String]) -> Vec<ir::Step> {
        let mut out = Vec::new();
        for step in steps {
            match step {
                ast::Step::Let(l) => {
                    let value = self.expr(&l.value);
                    let id = self.var(&l.name.name);
                    self.secret_var(l.secret, id, Some(&value));
                    self.scope.vars.insert(l.name.name.clone());
                    out.push(ir::Step::Let(id, value));
                }
                ast::Step::Sleep(s) => {
                    let sleep = match &s.kind {
                        ast::SleepKind::Fixed(q) => {
                            self.ok(quantity::duration(q)).map(ir::Sleep::Fixed)
                        }
                        ast::SleepKind::Between(a, b) => {
                            match (
                                self.ok(quantity::duration(a)),
                                self.ok(quantity::duration(b)),
                            ) {
                                (Some(a), Some(b)) if a <= b => Some(ir::Sleep::Between(a, b)),
                                (Some(_), Some(_)) => {
                                    self.error(error::invalid_wait("sleep", s.span));
                                    None
                                }
                                _ => None,
                            }
                        }
                    };
                    if let Some(sleep) = sleep {
                        out.push(ir::Step::Sleep(sleep));
                    }
                }
                ast::Step::If(i) => {
                    if let Some(i) = self.if_step(i, tags) {
                        out.push(ir::Step::If(Box::new(i)));
                    }
                }
                ast::Step::Repeat(r) => {
                    let count = match r.count.text.parse::<u32>() {
                        Ok(n) if n > 0 => Some(n),
                        _ => {
                            self.error(error::invalid_repeat(&r.count.text, r.count.span));
                            None
                        }
                    };
                    let body = self.steps(&r.body.steps, tags);
                    if let Some(n) = count {
                        out.push(ir::Step::Repeat(n, body));
                    }
                }
                ast::Step::Request(r) => {
                    if let Some(req) = self.request(r, tags) {
                        out.push(ir::Step::Request(Box::new(req)));
                    }
                }
            }
        }
        out
    }

    /// Both branches are compiled in the same scope: what one sets is known to the steps
    /// after the `if` (whether it has a value when they run is checked then).
    fn if_step(&mut self, i: &ast::If, tags: &[String]) -> Option<ir::If> {
        let c = &i.condition;
        let value = self.value(&c.value);
        let test = match &c.predicate {
            Some(p) => self.predicate(p).map(ir::ConditionTest::Predicate),
            None => Some(ir::ConditionTest::Truthy { negated: c.negated }),
        };
        let then = self.steps(&i.then.steps, tags);
        let otherwise = match &i.otherwise {
            None => Vec::new(),
            Some(ast::Else::Block(b)) => self.steps(&b.steps, tags),
            Some(ast::Else::If(next)) => self
                .if_step(next, tags)
                .map(|n| vec![ir::Step::If(Box::new(n))])
                .unwrap_or_default(),
        };
        Some(ir::If {
            condition: ir::Condition {
                value,
                test: test?,
                source: self.text(c.span).trim().to_string(),
                span: c.span,
            },
            then,
            otherwise,
        })
    }

    fn load(&mut self, l: &ast::LoadBlock) -> ir::LoadProfile {
        let mut p = ir::LoadProfile::default();
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        let mut stages_span = None;
        let mut arrival_span = None;
        let mut arrival_rate = None;
        let mut max_users = None;
        for s in &l.settings {
            let key = match s {
                ast::LoadSetting::Value { key, .. } => key.keyword(),
                ast::LoadSetting::Stages { .. } => "stages",
            };
            if let Some(first) = seen.get(key) {
                self.error(error::duplicate_setting(key, s.span(), *first));
                continue;
            }
            seen.insert(key, s.span());
            match s {
                ast::LoadSetting::Value { key, value, span } => match key {
                    ast::LoadKey::Users => {
                        p.users = self
                            .ok(quantity::count(value, "users", 1))
                            .map(|n| n as u32)
                    }
                    ast::LoadKey::SpawnRate => {
                        p.spawn_rate = self.ok(quantity::positive(value, "spawn_rate"))
                    }
                    ast::LoadKey::RunTime => p.run_time = self.ok(quantity::duration(value)),
                    ast::LoadKey::StopTimeout => {
                        p.stop_timeout = self.ok(quantity::duration(value))
                    }
                    ast::LoadKey::ArrivalRate => {
                        arrival_span = Some(*span);
                        arrival_rate = self.ok(quantity::rate(value, "arrival_rate"));
                    }
                    ast::LoadKey::MaxUsers => {
                        max_users = self
                            .ok(quantity::count(value, "max_users", 1))
                            .map(|n| n as u32)
                    }
                },
                ast::LoadSetting::Stages { stages, span } => {
                    stages_span = Some(*span);
                    for st in stages {
                        match st {
                            ast::Stage::Ramp { to, over, .. } => {
                                let to = self.ok(quantity::count(to, "ramp to", 0));
                                let over = self.ok(quantity::duration(over));
                                if let (Some(to), Some(over)) = (to, over) {
                                    p.stages.push(ir::Stage::Ramp {
                                        to: to as u32,
                                        over,
                                    });
                                }
                            }
                            ast::Stage::Hold { duration, .. } => {
                                if let Some(d) = self.ok(quantity::duration(duration)) {
                                    p.stages.push(ir::Stage::Hold(d));
                                }
                            }
                        }
                    }
                    if stages.is_empty() {
                        self.error(error::invalid_load(
                            *span,
                            "no stages",
                            "add `ramp to N over 30s` or `hold 1m`",
                        ));
                    }
                }
            }
        }
        if let (Some(a), Some(s)) = (arrival_span, stages_span) {
            self.error(
                error::invalid_load(
                    a,
                    "`arrival_rate` and `stages` cannot be combined",
                    "stages shape a user count; the arrival rate starts iterations on a schedule",
                )
                .with_label(s, "stages here"),
            );
        }
        if let Some(span) = seen.get("max_users").filter(|_| arrival_span.is_none()) {
            self.error(error::invalid_load(
                *span,
                "`max_users` only applies with `arrival_rate`",
                "use `users` for the closed model",
            ));
        }
        if let Some(rate) = arrival_rate {
            p.arrival = Some(ir::Arrival {
                rate,
                max_users: max_users.or(p.users).unwrap_or(100),
            });
        }
        p
    }

    fn threshold(&mut self, t: &ast::Threshold) -> Option<ir::Threshold> {
        let source = self.text(t.span).trim().to_string();
        let known_names: Vec<String> = self.stats.iter().map(|s| s.name.clone()).collect();
        let known_tags: BTreeSet<String> = self
            .stats
            .iter()
            .flat_map(|s| s.tags.iter().cloned())
            .collect();
        threshold::compile(self, t, source, &known_names, &known_tags)
    }
}

/// Where the Authorization header was set in one scenario, class or request, to report
/// it set twice (`auth` twice, or `auth` and `header Authorization:`).
#[derive(Default)]
pub(crate) struct AuthorizationSpans {
    /// The first place, and whether it was an `auth` line.
    first: Option<(Span, bool)>,
}

impl AuthorizationSpans {
    pub(crate) fn auth(&mut self, c: &mut Compiler<'_>, span: Span) {
        match self.first {
            Some((first, true)) => c.error(error::duplicate_setting("auth", span, first)),
            Some((first, false)) => c.error(error::auth_and_header(span, first)),
            None => self.first = Some((span, true)),
        }
    }

    /// Two `header Authorization:` lines are allowed (the last wins, as for any header).
    pub(crate) fn header(&mut self, c: &mut Compiler<'_>, span: Span) {
        match self.first {
            Some((first, true)) => c.error(error::auth_and_header(span, first)),
            Some((_, false)) => {}
            None => self.first = Some((span, false)),
        }
    }
}

/// Settings of the scenario or a user class.
#[derive(Default)]
struct Settings {
    host: Option<ir::Template>,
    host_span: Option<Span>,
    timeout: Option<Duration>,
    wait: Option<ir::WaitTime>,
    headers: Vec<ir::HeaderTemplate>,
    lets: Vec<(VarId, ir::Expr)>,
}

fn collect_defs(steps: &[ast::Step], out: &mut BTreeSet<String>) {
    for s in steps {
        match s {
            ast::Step::Let(l) => {
                out.insert(l.name.name.clone());
            }
            ast::Step::If(i) => {
                let mut branch = Some(i);
                while let Some(i) = branch {
                    collect_defs(&i.then.steps, out);
                    branch = match &i.otherwise {
                        Some(ast::Else::If(next)) => Some(next),
                        Some(ast::Else::Block(b)) => {
                            collect_defs(&b.steps, out);
                            None
                        }
                        None => None,
                    };
                }
            }
            ast::Step::Repeat(r) => collect_defs(&r.body.steps, out),
            ast::Step::Request(r) => {
                for item in r.items.iter().flatten() {
                    if let ast::RequestItem::Capture(c) = item {
                        out.insert(c.name.name.clone());
                    }
                }
            }
            ast::Step::Sleep(_) => {}
        }
    }
}

/// Whether the steps send a request, in any branch.
fn has_request(steps: &[ast::Step]) -> bool {
    steps.iter().any(|s| match s {
        ast::Step::Request(_) => true,
        ast::Step::Repeat(r) => has_request(&r.body.steps),
        ast::Step::If(i) => if_has_request(i),
        ast::Step::Let(_) | ast::Step::Sleep(_) => false,
    })
}

fn if_has_request(i: &ast::If) -> bool {
    has_request(&i.then.steps)
        || match &i.otherwise {
            Some(ast::Else::Block(b)) => has_request(&b.steps),
            Some(ast::Else::If(next)) => if_has_request(next),
            None => false,
        }
}

pub fn check_host(h: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(h).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme must be http or https, not `{}`",
            url.scheme()
        ));
    }
    if url.host().is_none() {
        return Err("there is no host name".to_string());
    }
    Ok(())
}

/// The keyword at the start of a block, where a label reads better than the whole block.
fn keyword_span(block: Span, keyword: &str) -> Span {
    Span::new(block.start, (block.start + keyword.len()).min(block.end))
}

fn io_reason(e: &str) -> String {
    if e.contains("No such file") || e.contains("os error 2") {
        "no such file".to_string()
    } else {
        e.to_string()
    }
}

/// Names that a misspelling could have meant.
pub(crate) fn suggest<'n>(word: &str, names: impl IntoIterator<Item = &'n str>) -> Option<&'n str> {
    did_you_mean(word, names)
}
