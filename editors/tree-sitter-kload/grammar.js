/**
 * @file Tree-sitter grammar for kload load-test scenarios (.kload files).
 *
 * Mirrors grammar/kload.pest, the only definition of the syntax: node names are the pest
 * rule names (except the conventional source_file, comment, identifier, string_content,
 * escape_sequence and interpolation), and editors/test.sh checks that every pest rule and
 * keyword has its counterpart here. Where pest's ordered choice or look-ahead cannot be
 * written as tree-sitter tokens, the rule is a little more lenient than pest; a highlighter
 * must keep going on incomplete code anyway, and the kload compiler has the last word.
 */

/// <reference types="tree-sitter-cli/dsl" />
// @ts-check

/** rule, rule, ... (one or more) */
const commaSep1 = (rule) => seq(rule, repeat(seq(',', rule)));
/** rule, rule, ..., with an optional trailing comma (zero or more) */
const commaSepTrailing = (rule) => optional(seq(rule, repeat(seq(',', rule)), optional(',')));

module.exports = grammar({
  name: 'kload',

  // Keywords are contextual in pest (`task search`, `capture status = ...`): with a word
  // token, a keyword is only a keyword where the grammar expects it.
  word: ($) => $.identifier,

  extras: ($) => [/\s/, $.comment],

  rules: {
    source_file: ($) => repeat($._item),
    _item: ($) => choice($.scenario_block, $.data_decl, $.load_block, $.user_block, $.thresholds_block),

    comment: (_) => token(seq('#', /.*/)),

    // ------------------------------------------------------------ scenario settings

    scenario_block: ($) => seq('scenario', field('name', $.string), '{', repeat($._scenario_setting), '}'),
    _scenario_setting: ($) => choice($.host_setting, $.timeout_setting, $.wait_setting, $.header_setting, $.auth_setting, $.let_stmt),

    host_setting: ($) => seq('host', $.string),
    timeout_setting: ($) => seq('timeout', $.quantity),
    header_setting: ($) => seq('header', field('name', $.header_name), ':', field('value', $._value)),

    auth_setting: ($) => seq('auth', choice($.auth_basic, $.auth_bearer)),
    auth_basic: ($) => seq('basic', field('user', $._value), field('password', $._value)),
    auth_bearer: ($) => seq('bearer', field('token', $._value)),

    wait_setting: ($) => seq('wait', choice($.wait_between, $.wait_constant, $.wait_pacing, $.wait_throughput)),
    wait_between: ($) => seq('between', $.quantity, $.quantity),
    wait_constant: ($) => seq('constant', $.quantity),
    wait_pacing: ($) => seq('pacing', $.quantity),
    wait_throughput: ($) => seq('throughput', $.quantity),

    let_stmt: ($) => seq('let', $._declared_name, '=', field('value', $._expr)),
    // `let secret token = ...`: the marker only stands before a name, so that
    // `let secret = 1` still names a variable `secret` (pest: `kw_secret ~ &ident`).
    _declared_name: ($) => choice(
      seq(field('secret', $.secret_marker), field('name', $.identifier)),
      field('name', $.identifier),
      field('name', alias('secret', $.identifier)),
    ),
    secret_marker: (_) => 'secret',

    // ------------------------------------------------------------ data feeds

    data_decl: ($) => seq('data', field('name', $.identifier), 'from', field('file', $.string), optional($.feed_mode)),
    feed_mode: (_) => choice('unique', 'cycle', 'random'),

    // ------------------------------------------------------------ load profile

    load_block: ($) => seq('load', '{', repeat($._load_setting), '}'),
    _load_setting: ($) => choice(
      $.users_setting, $.spawn_rate_setting, $.run_time_setting, $.stop_timeout_setting,
      $.arrival_rate_setting, $.max_users_setting, $.stages_block,
    ),
    users_setting: ($) => seq('users', $.quantity),
    spawn_rate_setting: ($) => seq('spawn_rate', $.quantity),
    run_time_setting: ($) => seq('run_time', $.quantity),
    stop_timeout_setting: ($) => seq('stop_timeout', $.quantity),
    arrival_rate_setting: ($) => seq('arrival_rate', $.quantity),
    max_users_setting: ($) => seq('max_users', $.quantity),

    stages_block: ($) => seq('stages', '{', repeat(choice($.ramp_stage, $.hold_stage)), '}'),
    ramp_stage: ($) => seq('ramp', 'to', $.quantity, 'over', $.quantity),
    hold_stage: ($) => seq('hold', $.quantity),

    // ------------------------------------------------------------ user classes

    user_block: ($) => seq('user', field('name', $.identifier), repeat($._class_option), '{', repeat($._user_item), '}'),
    _class_option: ($) => choice($.weight_option, $.count_option, $.tags_option),
    weight_option: ($) => seq('weight', $.quantity),
    count_option: ($) => seq('count', $.quantity),
    tags_option: ($) => seq('tags', commaSep1(field('tag', $.identifier))),

    _user_item: ($) => choice(
      $.host_setting, $.wait_setting, $.header_setting, $.auth_setting, $.let_stmt,
      $.on_start, $.on_stop, $.task_block, $.sequence_block,
    ),

    on_start: ($) => seq('on', 'start', '{', repeat($._step), '}'),
    on_stop: ($) => seq('on', 'stop', '{', repeat($._step), '}'),

    _task_option: ($) => choice($.weight_option, $.tags_option),
    task_block: ($) => seq('task', field('name', $.identifier), repeat($._task_option), '{', repeat($._step), '}'),
    sequence_block: ($) => seq('sequence', field('name', $.identifier), repeat($._task_option), '{', repeat($.task_block), '}'),

    // ------------------------------------------------------------ steps

    _step: ($) => choice($.let_stmt, $.sleep_step, $.if_step, $.repeat_step, $.request),
    sleep_step: ($) => seq('sleep', choice($.sleep_between, $.quantity)),
    sleep_between: ($) => seq('between', $.quantity, $.quantity),

    if_step: ($) => seq('if', $.condition, $.step_block, optional($.else_clause)),
    else_clause: ($) => seq('else', choice($.if_step, $.step_block)),
    condition: ($) => choice(seq($.negation, $._value), seq($._value, optional($.predicate))),
    repeat_step: ($) => seq('repeat', $.quantity, $.step_block),
    step_block: ($) => seq('{', repeat($._step), '}'),

    request: ($) => seq(field('method', $.method), field('path', $.string), optional($.request_block)),
    // Any upper-case word; the compiler says which methods exist.
    method: (_) => token(prec(1, /[A-Z]+/)),
    request_block: ($) => seq('{', repeat($._request_item), '}'),
    _request_item: ($) => choice(
      $.name_option, $.header_setting, $.auth_setting, $.query_param, $.json_body, $.form_body, $.multipart_body,
      $.raw_body, $.timeout_setting, $.redirects_option, $.tags_option, $.check, $.capture,
    ),

    name_option: ($) => seq('name', $.string),
    query_param: ($) => seq('query', field('name', $._param_name), ':', field('value', $._value)),
    redirects_option: (_) => seq('redirects', choice('on', 'off')),

    json_body: ($) => seq('json', choice($.json_object, $.json_array)),
    form_body: ($) => seq('form', '{', commaSepTrailing($.form_field), '}'),
    form_field: ($) => seq(field('name', $._param_name), ':', field('value', $._value)),
    raw_body: ($) => seq('body', $.string, optional($.content_type)),
    content_type: ($) => seq('type', $.string),

    multipart_body: ($) => seq('multipart', '{', repeat(choice($.part_field, $.part_file, $.part_bytes)), '}'),
    part_field: ($) => seq('field', field('name', $._param_name), ':', field('value', $._value)),
    part_file: ($) => seq('file', field('name', $._param_name), ':', field('path', $.string), optional($.content_type)),
    part_bytes: ($) => seq(
      'file', field('name', $._param_name), ':', 'random', field('size', $.quantity),
      'named', field('filename', $.string), optional($.content_type),
    ),

    // ------------------------------------------------------------ checks

    check: ($) => seq('check', choice($.check_status, $.check_header, $.check_jsonpath, $.check_body, $.check_duration)),
    check_status: ($) => seq('status', choice($.status_list, $._status_item)),
    status_list: ($) => seq('in', '[', commaSep1($._status_item), ']'),
    _status_item: ($) => choice($.status_range, $.status_code),
    status_range: ($) => seq($.status_code, token.immediate('..'), alias(token.immediate(/[0-9]+/), $.status_code)),
    status_code: (_) => /[0-9]+/,
    check_header: ($) => seq('header', field('name', $.header_name), $.predicate),
    check_jsonpath: ($) => seq('jsonpath', field('path', $.string), $.predicate),
    check_body: ($) => seq('body', $.predicate),
    check_duration: ($) => seq('duration', $.compare_op, $.quantity),

    predicate: ($) => seq(optional($.negation), choice($.pred_exists, $.pred_contains, $.pred_matches, $.pred_compare)),
    negation: (_) => 'not',
    pred_exists: (_) => 'exists',
    pred_contains: ($) => seq('contains', $._value),
    pred_matches: ($) => seq('matches', $.string),
    pred_compare: ($) => seq($.compare_op, $._value),
    compare_op: (_) => choice('==', '!=', '<=', '>=', '<', '>'),

    // ------------------------------------------------------------ captures

    capture: ($) => seq('capture', $._declared_name, '=', choice(
      $.capture_jsonpath, $.capture_header, $.capture_cookie, $.capture_regex,
    )),
    capture_jsonpath: ($) => seq('jsonpath', field('path', $.string), optional($.capture_mode)),
    capture_mode: (_) => choice('first', 'all', 'random'),
    capture_header: ($) => seq('header', field('name', $.header_name)),
    capture_cookie: ($) => seq('cookie', field('name', $._param_name)),
    capture_regex: ($) => seq('regex', field('pattern', $.string)),

    // ------------------------------------------------------------ thresholds

    thresholds_block: ($) => seq('thresholds', '{', repeat($.threshold), '}'),
    threshold: ($) => seq($.metric, optional($.selector), $.compare_op, $.quantity, repeat(choice($.warn_flag, $.optional_flag, $.abort_flag))),
    // p95, error_rate, p99.9: an identifier, so that `warn`, `optional` and `abort` stay keywords.
    metric: ($) => seq($.identifier, repeat(token.immediate(/\.[0-9][A-Za-z0-9_]*/))),
    selector: ($) => seq('(', choice($.tag_selector, $.string, $.bare_selector), ')'),
    // `tag` must be followed by a space here: `(tagged)` is a bare selector, as in pest.
    tag_selector: ($) => seq(alias(token(prec(2, /tag\s+/)), 'tag'), field('tag', $.identifier)),
    bare_selector: (_) => token(prec(1, /[^)\s"][^)\s]*/)),
    warn_flag: (_) => 'warn',
    optional_flag: (_) => 'optional',
    abort_flag: ($) => seq('abort', 'after', $.quantity),

    // ------------------------------------------------------------ values and expressions

    _value: ($) => choice($.string, $.interpolation, $.boolean, $.null, $.quantity),

    json_object: ($) => seq('{', commaSepTrailing($.json_member), '}'),
    // The key is a string (pest: json_member = string ~ ":" ~ json_value), named apart so that
    // queries can colour it as a property without two patterns claiming one node.
    json_member: ($) => seq(field('key', alias($.string, $.json_key)), ':', field('value', $._json_value)),
    json_array: ($) => seq('[', commaSepTrailing($._json_value), ']'),
    _json_value: ($) => choice($.json_object, $.json_array, $.string, $.interpolation, $.boolean, $.null, $.quantity),

    _expr: ($) => choice($.call, $.list, $.string, $.boolean, $.null, $.quantity, $.var_ref),
    call: ($) => seq(field('function', $.identifier), '(', optional(commaSep1($._expr)), ')'),
    list: ($) => seq('[', optional(commaSep1($._expr)), ']'),
    var_ref: ($) => seq($.identifier, repeat(seq('.', $.identifier))),
    boolean: (_) => choice('true', 'false'),
    null: (_) => 'null',

    // A string with `{{ expression }}` interpolations; nested strings are legal inside them.
    string: ($) => seq(
      '"',
      repeat(choice(
        $.string_content,
        $.escape_sequence,
        alias($._string_interpolation, $.interpolation),
      )),
      token.immediate('"'),
    ),
    // Text up to a quote, a backslash or `{{`; a lone `{` is text too. Precedence 1 keeps
    // `#` in a string from starting a comment; `{{` has it too, and wins by being longer.
    string_content: (_) => token.immediate(prec(1, /([^"\\{]|\{[^"\\{])+|\{/)),
    escape_sequence: (_) => token.immediate(prec(1, /\\(["\\ntr{}]|u\{[0-9A-Fa-f]{1,6}\})/)),
    _string_interpolation: ($) => seq(alias(token.immediate(prec(1, '{{')), '{{'), $._expr, '}}'),
    interpolation: ($) => seq('{{', $._expr, '}}'),

    // 10, -1, 2.5, 30s, 1h30m, 500ms, 200KB, 1%, 20/s. The compiler checks the unit.
    quantity: (_) => /-?[0-9]+(\.[0-9]+)?(%|\/[A-Za-z]+|[A-Za-z]+([0-9]+(\.[0-9]+)?[A-Za-z]+)*)?/,

    identifier: (_) => /[A-Za-z_][A-Za-z0-9_]*/,
    header_name: (_) => /[A-Za-z0-9_-]+/,
    _param_name: ($) => choice($.param_word, $.string),
    param_word: (_) => /[A-Za-z0-9_.\[\]-]+/,
  },
});
