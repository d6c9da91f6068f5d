; Highlights for kload scenarios (.kload).
;
; Generated from editors/tree-sitter-kload/queries/highlights.scm with Helix's capture
; names (editors/tests/treesitter.js); edit that file, then re-bless.
; No two patterns capture the same node, so the result does not depend on whether an
; editor lets the first or the last matching pattern win.

(comment) @comment

; ---------------------------------------------------------------- keywords
; Every keyword of grammar/kload.pest is in this section (editors/test.sh checks it).

[
  "scenario"
  "data"
  "from"
  "load"
  "user"
  "task"
  "sequence"
  "stages"
  "thresholds"
  "on"
  "start"
  "stop"
  "let"
  "sleep"
  "check"
  "capture"
] @keyword

[
  "if"
  "else"
] @keyword.control.conditional

"repeat" @keyword.control.repeat

[
  "host"
  "timeout"
  "header"
  "auth"
  "basic"
  "bearer"
  "wait"
  "between"
  "constant"
  "pacing"
  "throughput"
  "users"
  "spawn_rate"
  "run_time"
  "stop_timeout"
  "arrival_rate"
  "max_users"
  "ramp"
  "to"
  "over"
  "hold"
  "weight"
  "count"
  "tags"
  "tag"
  "name"
  "query"
  "redirects"
  "off"
  "json"
  "form"
  "multipart"
  "field"
  "file"
  "random"
  "named"
  "body"
  "type"
  "status"
  "jsonpath"
  "duration"
  "cookie"
  "regex"
  "abort"
  "after"
] @keyword

(feed_mode) @keyword
(capture_mode) @keyword
(warn_flag) @keyword
(secret_marker) @keyword.storage.modifier
(optional_flag) @keyword

[
  "in"
  "contains"
  "matches"
] @keyword.operator

(negation) @keyword.operator
(pred_exists) @keyword.operator

; ---------------------------------------------------------------- requests

(method) @function.method

; ---------------------------------------------------------------- names

(user_block name: (identifier) @type)
(task_block name: (identifier) @function)
(sequence_block name: (identifier) @function)
(data_decl name: (identifier) @variable)
(let_stmt name: (identifier) @variable)
(capture name: (identifier) @variable)
(tags_option tag: (identifier) @label)
(tag_selector tag: (identifier) @label)
(header_name) @attribute
(param_word) @variable.parameter
(metric) @variable.builtin
(bare_selector) @string.special

; ---------------------------------------------------------------- values

(string) @string
(json_key) @variable.other.member
(escape_sequence) @constant.character.escape
(quantity) @constant.numeric
(status_code) @constant.numeric
(boolean) @constant.builtin.boolean
(null) @constant.builtin

; ---------------------------------------------------------------- expressions

(interpolation) @special
(interpolation
  [
    "{{"
    "}}"
  ] @punctuation.special)
(call function: (identifier) @function)
(var_ref (identifier) @variable)

; ---------------------------------------------------------------- operators and punctuation

(compare_op) @operator
[
  "="
  ".."
] @operator

[
  "{"
  "}"
  "["
  "]"
  "("
  ")"
] @punctuation.bracket

[
  ","
  ":"
  "."
] @punctuation.delimiter
