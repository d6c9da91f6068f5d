//! Source text → AST: runs the pest parser generated from `grammar/kload.pest` and lowers
//! its pairs into the plain tree of [`crate::syntax::ast`].
//!
//! The grammar guarantees the shape of every pair handed to a lowering function, so a
//! surprise there is a bug of ours (`unreachable!` with the rule), never a user mistake.

use pest::Parser as _;
use pest::iterators::Pair;

use super::ast::*;
use crate::diagnostic::Diagnostic;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/kload.pest"]
pub struct KloadParser;

/// Above this size a file is parsed a piece at a time (see [`parse`]).
const PIECEWISE_ABOVE: usize = 1 << 20;

/// Bytes of source parsed at once in a large file.
const PIECE: usize = 256 * 1024;

thread_local! {
    /// Where the piece being lowered starts in the file: added to every span.
    static OFFSET: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Sets [`OFFSET`] for as long as it lives.
struct Offset;

impl Offset {
    fn set(at: usize) -> Offset {
        OFFSET.with(|o| o.set(at));
        Offset
    }
}

impl Drop for Offset {
    fn drop(&mut self) {
        OFFSET.with(|o| o.set(0));
    }
}

/// Parses a whole `.kload` file.
///
/// pest keeps a token for every rule it matched until the parse result is dropped: tens of
/// bytes per token, many times the size of the text. A large file is therefore cut into
/// pieces of whole top-level blocks, each parsed and lowered on its own, so memory stays a
/// small multiple of the file's size. A piece that does not parse sends the whole file
/// through the parser again, so that a syntax error is reported exactly as always.
pub fn parse(source: &str) -> Result<File, Diagnostic> {
    super::error::check_depth(source)?;
    if source.len() > PIECEWISE_ABOVE {
        let mut file = File {
            items: Vec::new(),
            comments: Vec::new(),
        };
        let mut whole = true;
        for (start, end) in super::error::pieces(source, PIECE) {
            let _offset = Offset::set(start);
            match parse_piece(&source[start..end], source) {
                Ok(Some(piece)) => {
                    file.items.extend(piece.items);
                    file.comments.extend(piece.comments);
                }
                Ok(None) => {
                    whole = false;
                    break;
                }
                Err(d) => return Err(d),
            }
        }
        if whole {
            return Ok(file);
        }
    }
    let _offset = Offset::set(0);
    match parse_piece(source, source)? {
        Some(file) => Ok(file),
        None => match KloadParser::parse(Rule::file, source) {
            Err(e) => Err(super::error::syntax_error(e, source, Rule::file)),
            Ok(_) => unreachable!("the whole file failed to parse a moment ago"),
        },
    }
}

/// Parses the whole file at once (the tests compare it with [`parse`]).
#[cfg(test)]
pub(crate) fn parse_whole_for_tests(source: &str) -> Result<File, Diagnostic> {
    let _offset = Offset::set(0);
    match parse_piece(source, source)? {
        Some(file) => Ok(file),
        None => match KloadParser::parse(Rule::file, source) {
            Err(e) => Err(super::error::syntax_error(e, source, Rule::file)),
            Ok(_) => unreachable!("the file failed to parse a moment ago"),
        },
    }
}

/// Parses `piece` (all of `source`, or whole top-level blocks of it at [`OFFSET`]): the
/// tree, `None` when it does not parse, or a diagnostic about the whole file.
fn parse_piece(piece: &str, source: &str) -> Result<Option<File>, Diagnostic> {
    let Ok(mut pairs) = KloadParser::parse(Rule::file, piece) else {
        return Ok(None);
    };
    let file = pairs
        .next()
        .unwrap_or_else(|| unreachable!("file rule yields one pair"));
    let mut comments = Vec::new();
    let mut detached = None;
    collect_trivia(file.clone(), &mut comments, &mut detached);
    if let Some(q) = detached {
        return Err(super::error::detached_unit(source, q));
    }
    let items = children(file).map(lower_item).collect();
    Ok(Some(File { items, comments }))
}

/// Parses one threshold as written on the command line (`p95(/api/) < 200ms`).
pub fn parse_threshold(source: &str) -> Result<Threshold, Diagnostic> {
    super::error::check_depth(source)?;
    let mut pairs = KloadParser::parse(Rule::threshold_line, source)
        .map_err(|e| super::error::syntax_error(e, source, Rule::threshold_line))?;
    let line = pairs
        .next()
        .unwrap_or_else(|| unreachable!("threshold_line yields one pair"));
    let mut detached = None;
    collect_trivia(line.clone(), &mut Vec::new(), &mut detached);
    if let Some(q) = detached {
        return Err(super::error::detached_unit(source, q));
    }
    let threshold = children(line)
        .next()
        .unwrap_or_else(|| unreachable!("threshold_line holds a threshold"));
    Ok(lower_threshold(threshold))
}

/// Collects every comment, and the first number written a space away from its unit
/// (`1500 ms`), which the grammar reads as one quantity so that it can be reported here.
fn collect_trivia(pair: Pair<Rule>, out: &mut Vec<Comment>, detached: &mut Option<Span>) {
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::COMMENT => {
                let text = p.as_str()[1..].trim_end().to_string();
                out.push(Comment {
                    text,
                    span: span(&p),
                });
            }
            Rule::quantity => {
                if detached.is_none() && p.as_str().contains([' ', '\t']) {
                    *detached = Some(span(&p));
                }
            }
            _ => collect_trivia(p, out, detached),
        }
    }
}

/// The pair's byte range, without the whitespace and comments pest folds into the end of
/// a rule whose last part is optional (`capture x = jsonpath "$.a"   # note`).
fn span(pair: &Pair<Rule>) -> Span {
    let s = pair.as_span();
    let offset = OFFSET.with(std::cell::Cell::get);
    let shift = |sp: Span| Span::new(sp.start + offset, sp.end + offset);
    shift(local_span(pair, s))
}

/// [`span`] within the text pest was given.
fn local_span(pair: &Pair<Rule>, s: pest::Span<'_>) -> Span {
    let (start, end) = (s.start(), s.end());
    let Some(last) = pair
        .clone()
        .into_inner()
        .filter(|p| p.as_rule() != Rule::COMMENT)
        .last()
    else {
        return Span::new(start, end);
    };
    let cut = last.as_span().end();
    let rest = &s.get_input()[cut..end];
    let only_trivia = rest.lines().all(|l| {
        let l = l.trim_start();
        l.is_empty() || l.starts_with('#')
    });
    if only_trivia {
        Span::new(start, cut)
    } else {
        Span::new(start, end)
    }
}

/// The pairs that carry meaning: comments, keywords and end of input are skipped.
fn children(pair: Pair<Rule>) -> impl Iterator<Item = Pair<Rule>> {
    pair.into_inner().filter(|p| !is_noise(p.as_rule()))
}

fn is_noise(rule: Rule) -> bool {
    use Rule::*;
    matches!(
        rule,
        COMMENT
            | EOI
            | kw_abort
            | kw_after
            | kw_all
            | kw_arrival_rate
            | kw_auth
            | kw_basic
            | kw_bearer
            | kw_between
            | kw_body
            | kw_capture
            | kw_check
            | kw_constant
            | kw_contains
            | kw_cookie
            | kw_count
            | kw_cycle
            | kw_data
            | kw_duration
            | kw_else
            | kw_exists
            | kw_field
            | kw_file
            | kw_first
            | kw_form
            | kw_from
            | kw_header
            | kw_hold
            | kw_host
            | kw_if
            | kw_in
            | kw_json
            | kw_jsonpath
            | kw_let
            | kw_load
            | kw_matches
            | kw_max_users
            | kw_multipart
            | kw_name
            | kw_named
            | kw_not
            | kw_optional
            | kw_over
            | kw_pacing
            | kw_query
            | kw_ramp
            | kw_redirects
            | kw_regex
            | kw_repeat
            | kw_run_time
            | kw_scenario
            | kw_secret
            | kw_sequence
            | kw_sleep
            | kw_spawn_rate
            | kw_stages
            | kw_status
            | kw_stop_timeout
            | kw_tag
            | kw_tags
            | kw_task
            | kw_thresholds
            | kw_throughput
            | kw_timeout
            | kw_to
            | kw_type
            | kw_user
            | kw_users
            | kw_wait
            | kw_warn
            | kw_weight
    )
}

/// `collect` into a vector without spare capacity: a large scenario's tree holds millions of
/// small vectors, and the doubling of `collect` left a third of their memory unused.
trait Tight: Iterator + Sized {
    fn tight(self) -> Vec<Self::Item> {
        let mut v: Vec<Self::Item> = self.collect();
        v.shrink_to_fit();
        v
    }
}

impl<I: Iterator> Tight for I {}

fn next<'a>(it: &mut impl Iterator<Item = Pair<'a, Rule>>, what: &str) -> Pair<'a, Rule> {
    it.next()
        .unwrap_or_else(|| unreachable!("grammar guarantees {what}"))
}

fn ident(pair: Pair<Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span(&pair),
    }
}

fn quantity(pair: Pair<Rule>) -> Quantity {
    Quantity {
        text: pair.as_str().to_string(),
        span: span(&pair),
    }
}

fn lower_item(pair: Pair<Rule>) -> Item {
    match pair.as_rule() {
        Rule::scenario_block => {
            let sp = span(&pair);
            let mut it = children(pair);
            let name = template(next(&mut it, "a scenario name"));
            let settings = it.map(lower_setting).collect();
            Item::Scenario(Scenario {
                name,
                settings,
                span: sp,
            })
        }
        Rule::data_decl => {
            let sp = span(&pair);
            let mut it = children(pair);
            let name = ident(next(&mut it, "a feed name"));
            let path = template(next(&mut it, "a feed path"));
            let mode = it.next().map(|m| {
                let msp = span(&m);
                let kw = m.into_inner().next().map(|k| k.as_rule());
                let mode = match kw {
                    Some(Rule::kw_unique) => FeedMode::Unique,
                    Some(Rule::kw_cycle) => FeedMode::Cycle,
                    Some(Rule::kw_random) => FeedMode::Random,
                    other => unreachable!("feed_mode holds a mode keyword, got {other:?}"),
                };
                (mode, msp)
            });
            Item::Data(DataDecl {
                name,
                path,
                mode,
                span: sp,
            })
        }
        Rule::load_block => {
            let sp = span(&pair);
            let settings = children(pair).map(lower_load_setting).collect();
            Item::Load(LoadBlock { settings, span: sp })
        }
        Rule::user_block => Item::User(lower_user(pair)),
        Rule::thresholds_block => {
            let sp = span(&pair);
            let thresholds = children(pair).map(lower_threshold).collect();
            Item::Thresholds(ThresholdsBlock {
                thresholds,
                span: sp,
            })
        }
        other => unreachable!("file items are blocks, got {other:?}"),
    }
}

fn lower_setting(pair: Pair<Rule>) -> Setting {
    let sp = span(&pair);
    match pair.as_rule() {
        Rule::host_setting => {
            let url = template(next(&mut children(pair), "a host"));
            Setting::Host { url, span: sp }
        }
        Rule::timeout_setting => {
            let value = quantity(next(&mut children(pair), "a timeout"));
            Setting::Timeout { value, span: sp }
        }
        Rule::wait_setting => Setting::Wait(lower_wait(pair)),
        Rule::header_setting => Setting::Header(lower_header(pair)),
        Rule::auth_setting => Setting::Auth(lower_auth(pair)),
        Rule::let_stmt => Setting::Let(lower_let(pair)),
        other => unreachable!("settings are host/timeout/wait/header/auth/let, got {other:?}"),
    }
}

fn lower_auth(pair: Pair<Rule>) -> Auth {
    let sp = span(&pair);
    let scheme = next(&mut children(pair), "an auth scheme");
    let rule = scheme.as_rule();
    let mut it = children(scheme).map(lower_value);
    let mut value = || {
        it.next()
            .unwrap_or_else(|| unreachable!("grammar guarantees a credential"))
    };
    let kind = match rule {
        Rule::auth_basic => {
            let user = value();
            let password = value();
            AuthKind::Basic { user, password }
        }
        Rule::auth_bearer => AuthKind::Bearer { token: value() },
        other => unreachable!("auth schemes, got {other:?}"),
    };
    Auth { kind, span: sp }
}

fn lower_wait(pair: Pair<Rule>) -> Wait {
    let sp = span(&pair);
    let kind = next(&mut children(pair), "a wait kind");
    let rule = kind.as_rule();
    let mut q = children(kind).map(quantity);
    let kind = match rule {
        Rule::wait_between => {
            let a = next_q(&mut q);
            let b = next_q(&mut q);
            WaitKind::Between(a, b)
        }
        Rule::wait_constant => WaitKind::Constant(next_q(&mut q)),
        Rule::wait_pacing => WaitKind::Pacing(next_q(&mut q)),
        Rule::wait_throughput => WaitKind::Throughput(next_q(&mut q)),
        other => unreachable!("wait kinds, got {other:?}"),
    };
    Wait { kind, span: sp }
}

fn next_q(it: &mut impl Iterator<Item = Quantity>) -> Quantity {
    it.next()
        .unwrap_or_else(|| unreachable!("grammar guarantees a quantity"))
}

fn lower_header(pair: Pair<Rule>) -> Header {
    let sp = span(&pair);
    let mut it = children(pair);
    let name = ident(next(&mut it, "a header name"));
    let value = lower_value(next(&mut it, "a header value"));
    Header {
        name,
        value,
        span: sp,
    }
}

fn lower_let(pair: Pair<Rule>) -> Let {
    let sp = span(&pair);
    let mut it = children(pair).peekable();
    let secret = secret_marker(&mut it);
    let name = ident(next(&mut it, "a variable name"));
    let value = lower_expr(next(&mut it, "an expression"));
    Let {
        secret,
        name,
        value,
        span: sp,
    }
}

fn lower_load_setting(pair: Pair<Rule>) -> LoadSetting {
    let sp = span(&pair);
    let key = match pair.as_rule() {
        Rule::users_setting => LoadKey::Users,
        Rule::spawn_rate_setting => LoadKey::SpawnRate,
        Rule::run_time_setting => LoadKey::RunTime,
        Rule::stop_timeout_setting => LoadKey::StopTimeout,
        Rule::arrival_rate_setting => LoadKey::ArrivalRate,
        Rule::max_users_setting => LoadKey::MaxUsers,
        Rule::stages_block => {
            let stages = children(pair).map(lower_stage).collect();
            return LoadSetting::Stages { stages, span: sp };
        }
        other => unreachable!("load settings, got {other:?}"),
    };
    let value = quantity(next(&mut children(pair), "a load value"));
    LoadSetting::Value {
        key,
        value,
        span: sp,
    }
}

fn lower_stage(pair: Pair<Rule>) -> Stage {
    let sp = span(&pair);
    let rule = pair.as_rule();
    let mut q = children(pair).map(quantity);
    match rule {
        Rule::ramp_stage => {
            let to = next_q(&mut q);
            let over = next_q(&mut q);
            Stage::Ramp { to, over, span: sp }
        }
        Rule::hold_stage => Stage::Hold {
            duration: next_q(&mut q),
            span: sp,
        },
        other => unreachable!("stages, got {other:?}"),
    }
}

fn lower_option(pair: Pair<Rule>) -> ClassOption {
    let sp = span(&pair);
    match pair.as_rule() {
        Rule::weight_option => ClassOption::Weight {
            value: quantity(next(&mut children(pair), "a weight")),
            span: sp,
        },
        Rule::count_option => ClassOption::Count {
            value: quantity(next(&mut children(pair), "a count")),
            span: sp,
        },
        Rule::tags_option => ClassOption::Tags {
            tags: children(pair).map(ident).collect(),
            span: sp,
        },
        other => unreachable!("class options, got {other:?}"),
    }
}

fn is_option(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::weight_option | Rule::count_option | Rule::tags_option
    )
}

fn lower_user(pair: Pair<Rule>) -> UserClass {
    let sp = span(&pair);
    let mut it = children(pair).peekable();
    let name = ident(next(&mut it, "a class name"));
    let mut options = Vec::new();
    while let Some(p) = it.next_if(|p| is_option(p.as_rule())) {
        options.push(lower_option(p));
    }
    let items = it
        .map(|p| match p.as_rule() {
            Rule::on_start => UserItem::OnStart(lower_block(p)),
            Rule::on_stop => UserItem::OnStop(lower_block(p)),
            Rule::task_block => UserItem::Task(lower_task(p)),
            Rule::sequence_block => UserItem::Sequence(lower_sequence(p)),
            _ => UserItem::Setting(lower_setting(p)),
        })
        .tight();
    UserClass {
        name,
        options,
        items,
        span: sp,
    }
}

fn lower_block(pair: Pair<Rule>) -> Block {
    let sp = span(&pair);
    let steps = children(pair)
        .filter(|p| !matches!(p.as_rule(), Rule::kw_on | Rule::kw_start | Rule::kw_stop))
        .map(lower_step)
        .tight();
    Block { steps, span: sp }
}

fn lower_task(pair: Pair<Rule>) -> Task {
    let sp = span(&pair);
    let mut it = children(pair).peekable();
    let name = ident(next(&mut it, "a task name"));
    let mut options = Vec::new();
    while let Some(p) = it.next_if(|p| is_option(p.as_rule())) {
        options.push(lower_option(p));
    }
    let steps = it.map(lower_step).tight();
    Task {
        name,
        options,
        steps,
        span: sp,
    }
}

fn lower_sequence(pair: Pair<Rule>) -> Sequence {
    let sp = span(&pair);
    let mut it = children(pair).peekable();
    let name = ident(next(&mut it, "a sequence name"));
    let mut options = Vec::new();
    while let Some(p) = it.next_if(|p| is_option(p.as_rule())) {
        options.push(lower_option(p));
    }
    let tasks = it.map(lower_task).tight();
    Sequence {
        name,
        options,
        tasks,
        span: sp,
    }
}

fn lower_step(pair: Pair<Rule>) -> Step {
    let sp = span(&pair);
    match pair.as_rule() {
        Rule::let_stmt => Step::Let(lower_let(pair)),
        Rule::sleep_step => {
            let inner = next(&mut children(pair), "a sleep duration");
            let kind = if inner.as_rule() == Rule::sleep_between {
                let mut q = children(inner).map(quantity);
                let a = next_q(&mut q);
                let b = next_q(&mut q);
                SleepKind::Between(a, b)
            } else {
                SleepKind::Fixed(quantity(inner))
            };
            Step::Sleep(Sleep { kind, span: sp })
        }
        Rule::if_step => Step::If(Box::new(lower_if(pair))),
        Rule::repeat_step => {
            let mut it = children(pair);
            let count = quantity(next(&mut it, "a repeat count"));
            let body = lower_step_block(next(&mut it, "a block"));
            Step::Repeat(Repeat {
                count,
                body,
                span: sp,
            })
        }
        Rule::request => Step::Request(lower_request(pair)),
        other => unreachable!("steps, got {other:?}"),
    }
}

fn lower_step_block(pair: Pair<Rule>) -> Block {
    let sp = span(&pair);
    let steps = children(pair).map(lower_step).tight();
    Block { steps, span: sp }
}

fn lower_if(pair: Pair<Rule>) -> If {
    let sp = span(&pair);
    let mut it = children(pair);
    let condition = lower_condition(next(&mut it, "a condition"));
    let then = lower_step_block(next(&mut it, "a block"));
    let otherwise = it.next().map(|clause| {
        let inner = next(&mut children(clause), "an else branch");
        match inner.as_rule() {
            Rule::if_step => Else::If(Box::new(lower_if(inner))),
            Rule::step_block => Else::Block(lower_step_block(inner)),
            other => unreachable!("else branches, got {other:?}"),
        }
    });
    If {
        condition,
        then,
        otherwise,
        span: sp,
    }
}

fn lower_condition(pair: Pair<Rule>) -> Condition {
    let sp = span(&pair);
    let mut it = children(pair).peekable();
    let negated = it.next_if(|p| p.as_rule() == Rule::negation).is_some();
    let value = lower_value(next(&mut it, "a value"));
    let predicate = it.next().map(lower_predicate);
    Condition {
        negated,
        value,
        predicate,
        span: sp,
    }
}

fn lower_request(pair: Pair<Rule>) -> Request {
    let sp = span(&pair);
    let mut it = children(pair);
    let method = ident(next(&mut it, "a method"));
    let url = template(next(&mut it, "a URL"));
    let items = it
        .next()
        .map(|block| children(block).map(lower_request_item).tight());
    Request {
        method,
        url,
        items,
        span: sp,
    }
}

fn lower_request_item(pair: Pair<Rule>) -> RequestItem {
    let sp = span(&pair);
    match pair.as_rule() {
        Rule::name_option => RequestItem::Name {
            name: template(next(&mut children(pair), "a name")),
            span: sp,
        },
        Rule::header_setting => RequestItem::Header(lower_header(pair)),
        Rule::auth_setting => RequestItem::Auth(lower_auth(pair)),
        Rule::query_param => RequestItem::Query(lower_param(pair)),
        Rule::json_body => {
            let body = lower_json(next(&mut children(pair), "a JSON body"));
            RequestItem::Json { body, span: sp }
        }
        Rule::form_body => RequestItem::Form {
            fields: children(pair).map(lower_param).tight(),
            span: sp,
        },
        Rule::multipart_body => RequestItem::Multipart {
            parts: children(pair).map(lower_part).tight(),
            span: sp,
        },
        Rule::raw_body => {
            let mut it = children(pair);
            let content = template(next(&mut it, "a body"));
            let content_type = it.next().map(content_type);
            RequestItem::Body {
                content,
                content_type,
                span: sp,
            }
        }
        Rule::timeout_setting => RequestItem::Timeout {
            value: quantity(next(&mut children(pair), "a timeout")),
            span: sp,
        },
        Rule::redirects_option => {
            let follow = pair.into_inner().any(|p| p.as_rule() == Rule::kw_on);
            RequestItem::Redirects { follow, span: sp }
        }
        Rule::tags_option => RequestItem::Tags {
            tags: children(pair).map(ident).tight(),
            span: sp,
        },
        Rule::check => RequestItem::Check(lower_check(pair)),
        Rule::capture => RequestItem::Capture(lower_capture(pair)),
        other => unreachable!("request items, got {other:?}"),
    }
}

fn content_type(pair: Pair<Rule>) -> Template {
    template(next(&mut children(pair), "a content type"))
}

fn param_name(pair: Pair<Rule>) -> ParamName {
    match pair.as_rule() {
        Rule::param_word => ParamName::Word(ident(pair)),
        Rule::string => ParamName::Quoted(template(pair)),
        other => unreachable!("param names, got {other:?}"),
    }
}

fn lower_param(pair: Pair<Rule>) -> Param {
    let sp = span(&pair);
    let mut it = children(pair);
    let name = param_name(next(&mut it, "a parameter name"));
    let value = lower_value(next(&mut it, "a parameter value"));
    Param {
        name,
        value,
        span: sp,
    }
}

fn lower_part(pair: Pair<Rule>) -> Part {
    let sp = span(&pair);
    match pair.as_rule() {
        Rule::part_field => Part::Field(lower_param(pair)),
        Rule::part_file => {
            let mut it = children(pair);
            let name = param_name(next(&mut it, "a part name"));
            let path = template(next(&mut it, "a file path"));
            let content_type = it.next().map(content_type);
            Part::File {
                name,
                path,
                content_type,
                span: sp,
            }
        }
        Rule::part_bytes => {
            let mut it = children(pair).filter(|p| p.as_rule() != Rule::kw_random);
            let name = param_name(next(&mut it, "a part name"));
            let size = quantity(next(&mut it, "a size"));
            let filename = template(next(&mut it, "a file name"));
            let content_type = it.next().map(content_type);
            Part::Bytes {
                name,
                size,
                filename,
                content_type,
                span: sp,
            }
        }
        other => unreachable!("multipart parts, got {other:?}"),
    }
}

fn lower_check(pair: Pair<Rule>) -> Check {
    let sp = span(&pair);
    let target = next(&mut children(pair), "a check target");
    let rule = target.as_rule();
    let mut it = children(target);
    let kind = match rule {
        Rule::check_status => {
            let first = next(&mut it, "a status");
            if first.as_rule() == Rule::status_list {
                let items = children(first).map(status_item).tight();
                CheckKind::Status { items, list: true }
            } else {
                CheckKind::Status {
                    items: vec![status_item(first)],
                    list: false,
                }
            }
        }
        Rule::check_header => {
            let name = ident(next(&mut it, "a header name"));
            let predicate = lower_predicate(next(&mut it, "a predicate"));
            CheckKind::Header { name, predicate }
        }
        Rule::check_jsonpath => {
            let path = template(next(&mut it, "a JSON path"));
            let predicate = lower_predicate(next(&mut it, "a predicate"));
            CheckKind::JsonPath { path, predicate }
        }
        Rule::check_body => CheckKind::Body {
            predicate: lower_predicate(next(&mut it, "a predicate")),
        },
        Rule::check_duration => {
            let op_pair = next(&mut it, "an operator");
            let op_span = span(&op_pair);
            let op = compare_op(op_pair.as_str());
            let bound = quantity(next(&mut it, "a bound"));
            CheckKind::Duration { op, op_span, bound }
        }
        other => unreachable!("check targets, got {other:?}"),
    };
    Check { kind, span: sp }
}

fn status_item(pair: Pair<Rule>) -> StatusItem {
    match pair.as_rule() {
        Rule::status_code => StatusItem::Code(quantity(pair)),
        Rule::status_range => {
            let mut q = pair.into_inner().map(quantity);
            let a = next_q(&mut q);
            let b = next_q(&mut q);
            StatusItem::Range(a, b)
        }
        other => unreachable!("status items, got {other:?}"),
    }
}

fn compare_op(text: &str) -> CompareOp {
    match text {
        "==" => CompareOp::Eq,
        "!=" => CompareOp::Ne,
        "<" => CompareOp::Lt,
        "<=" => CompareOp::Le,
        ">" => CompareOp::Gt,
        ">=" => CompareOp::Ge,
        other => unreachable!("compare_op matched {other}"),
    }
}

fn lower_predicate(pair: Pair<Rule>) -> Predicate {
    let sp = span(&pair);
    let mut negated = false;
    let mut kind = None;
    for p in children(pair) {
        match p.as_rule() {
            Rule::negation => negated = true,
            Rule::pred_exists => kind = Some(PredicateKind::Exists),
            Rule::pred_contains => {
                kind = Some(PredicateKind::Contains(lower_value(next(
                    &mut children(p),
                    "a value",
                ))))
            }
            Rule::pred_matches => {
                kind = Some(PredicateKind::Matches(template(next(
                    &mut children(p),
                    "a regex",
                ))))
            }
            Rule::pred_compare => {
                let mut it = children(p);
                let op = compare_op(next(&mut it, "an operator").as_str());
                let value = lower_value(next(&mut it, "a value"));
                kind = Some(PredicateKind::Compare { op, value });
            }
            other => unreachable!("predicates, got {other:?}"),
        }
    }
    let kind = kind.unwrap_or_else(|| unreachable!("a predicate has a kind"));
    Predicate {
        negated,
        kind,
        span: sp,
    }
}

/// The span of `secret` in `let secret NAME` or `capture secret NAME`, if written.
fn secret_marker<'a>(
    it: &mut std::iter::Peekable<impl Iterator<Item = Pair<'a, Rule>>>,
) -> Option<Span> {
    it.next_if(|p| p.as_rule() == Rule::secret_marker)
        .map(|p| span(&p))
}

fn lower_capture(pair: Pair<Rule>) -> Capture {
    let sp = span(&pair);
    let mut it = children(pair).peekable();
    let secret = secret_marker(&mut it);
    let name = ident(next(&mut it, "a variable name"));
    let source = next(&mut it, "a capture source");
    let rule = source.as_rule();
    let mut it = children(source);
    let source = match rule {
        Rule::capture_jsonpath => {
            let path = template(next(&mut it, "a JSON path"));
            let mode = it
                .next()
                .map(|m| match m.into_inner().next().map(|k| k.as_rule()) {
                    Some(Rule::kw_first) => CaptureMode::First,
                    Some(Rule::kw_all) => CaptureMode::All,
                    Some(Rule::kw_random) => CaptureMode::Random,
                    other => unreachable!("capture modes, got {other:?}"),
                });
            CaptureSource::JsonPath { path, mode }
        }
        Rule::capture_header => CaptureSource::Header {
            name: ident(next(&mut it, "a header")),
        },
        Rule::capture_cookie => CaptureSource::Cookie {
            name: param_name(next(&mut it, "a cookie")),
        },
        Rule::capture_regex => CaptureSource::Regex {
            pattern: template(next(&mut it, "a regex")),
        },
        other => unreachable!("capture sources, got {other:?}"),
    };
    Capture {
        secret,
        name,
        source,
        span: sp,
    }
}

fn lower_threshold(pair: Pair<Rule>) -> Threshold {
    let sp = span(&pair);
    let mut it = children(pair).peekable();
    let metric = ident(next(&mut it, "a metric"));
    let selector = it.next_if(|p| p.as_rule() == Rule::selector).map(|s| {
        let inner = next(&mut children(s), "a selector");
        match inner.as_rule() {
            Rule::tag_selector => Selector::Tag(ident(next(&mut children(inner), "a tag"))),
            Rule::string => Selector::Name(template(inner)),
            Rule::bare_selector => Selector::Bare(ident(inner)),
            other => unreachable!("selectors, got {other:?}"),
        }
    });
    let op_pair = next(&mut it, "an operator");
    let op_span = span(&op_pair);
    let op = compare_op(op_pair.as_str());
    let value = quantity(next(&mut it, "a bound"));
    let mut warn = false;
    let mut optional = false;
    let mut abort_after = None;
    for flag in it {
        match flag.as_rule() {
            Rule::warn_flag => warn = true,
            Rule::optional_flag => optional = true,
            Rule::abort_flag => abort_after = Some(quantity(next(&mut children(flag), "a count"))),
            other => unreachable!("threshold flags, got {other:?}"),
        }
    }
    Threshold {
        metric,
        selector,
        op,
        op_span,
        value,
        warn,
        optional,
        abort_after,
        span: sp,
    }
}

fn lower_value(pair: Pair<Rule>) -> Value {
    let sp = span(&pair);
    match pair.as_rule() {
        Rule::string => Value::Str(template(pair)),
        Rule::interp => Value::Interp {
            expr: lower_expr(next(&mut children(pair), "an expression")),
            span: sp,
        },
        Rule::boolean => Value::Bool {
            value: pair.as_str() == "true",
            span: sp,
        },
        Rule::null => Value::Null { span: sp },
        Rule::quantity => Value::Number(quantity(pair)),
        other => unreachable!("values, got {other:?}"),
    }
}

fn lower_json(pair: Pair<Rule>) -> Json {
    let sp = span(&pair);
    match pair.as_rule() {
        Rule::json_object => {
            let members = children(pair)
                .map(|m| {
                    let mut it = children(m);
                    let key = template(next(&mut it, "a key"));
                    let value = lower_json(next(&mut it, "a value"));
                    (key, value)
                })
                .tight();
            Json::Object { members, span: sp }
        }
        Rule::json_array => Json::Array {
            items: children(pair).map(lower_json).tight(),
            span: sp,
        },
        _ => Json::Scalar(lower_value(pair)),
    }
}

fn lower_expr(pair: Pair<Rule>) -> Expr {
    let sp = span(&pair);
    match pair.as_rule() {
        Rule::call => {
            let mut it = children(pair);
            let name = ident(next(&mut it, "a function name"));
            let args = it.map(lower_expr).tight();
            Expr::Call {
                name,
                args,
                span: sp,
            }
        }
        Rule::list => Expr::List {
            items: children(pair).map(lower_expr).tight(),
            span: sp,
        },
        Rule::string => Expr::Str(template(pair)),
        Rule::boolean => Expr::Bool {
            value: pair.as_str() == "true",
            span: sp,
        },
        Rule::null => Expr::Null { span: sp },
        Rule::quantity => Expr::Number(quantity(pair)),
        Rule::var_ref => Expr::Var {
            path: pair.into_inner().map(ident).tight(),
            span: sp,
        },
        other => unreachable!("expressions, got {other:?}"),
    }
}

fn template(pair: Pair<Rule>) -> Template {
    let sp = span(&pair);
    let mut parts: Vec<TemplatePart> = Vec::new();
    for p in pair.into_inner() {
        let psp = span(&p);
        match p.as_rule() {
            Rule::text | Rule::escape => {
                // Adjacent text and escapes form one literal run.
                if let Some(TemplatePart::Text { raw, span }) = parts.last_mut() {
                    raw.push_str(p.as_str());
                    span.end = psp.end;
                } else {
                    parts.push(TemplatePart::Text {
                        raw: p.as_str().to_string(),
                        span: psp,
                    });
                }
            }
            Rule::interp => {
                let expr = lower_expr(next(&mut children(p), "an expression"));
                parts.push(TemplatePart::Expr(expr));
            }
            other => unreachable!("string parts, got {other:?}"),
        }
    }
    parts.shrink_to_fit();
    Template { parts, span: sp }
}
