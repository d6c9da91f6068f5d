" Vim syntax file
" Language: kload load-test scenarios (.kload)
"
" Mirrors grammar/kload.pest, the only definition of the syntax. Keywords there are
" contextual, so names after `user`, `task`, `let`, `header`, ... are matched with nextgroup
" before the keyword list can claim them. editors/test.sh checks that every keyword of the
" pest file is listed here and that shipped files highlight as the pest grammar reads them.
" Only standard highlight groups are linked; colours come from your colour scheme.

if exists("b:current_syntax")
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

syn case match
syn iskeyword @,48-57,_
" Scenario files are short; parsing from the top keeps multi-line blocks right everywhere.
syn sync fromstart

" ------------------------------------------------------------------ comments
syn keyword kloadTodo contained TODO FIXME XXX NOTE
syn match   kloadComment "#.*$" contains=kloadTodo,@Spell

" ------------------------------------------------------------------ strings
syn match   kloadEscape      contained +\\\%(["\\ntr{}]\|u{\x\{1,6}}\)+
syn match   kloadEscapeError contained +\\\%(["\\ntr{}]\|u{\x\{1,6}}\)\@!.\=+
" {{ expression }}: in strings, and bare as a JSON value. Nested strings are legal inside.
syn region  kloadInterp matchgroup=kloadInterpDelim start="{{" end="}}" contains=@kloadExpr
syn region  kloadString start=+"+ end=+"+ contains=kloadEscape,kloadEscapeError,kloadInterp
" A string followed by a colon: a JSON member name (or a form field written as a string).
syn match   kloadJsonKey +"\%([^"\\]\|\\.\)*"\ze\s*:+ contains=kloadEscape,kloadEscapeError,kloadInterp

" ------------------------------------------------------------------ values
syn keyword kloadBoolean true false
syn keyword kloadNull null
" 10, -1, 2.5, 30s, 1h30m, 500ms, 200KB, 1%, 20/s
syn match   kloadNumber   "\%(\w\|\.\)\@<!-\=\d\+\%(\.\d\+\)\=\%(%\|/\a\+\|\a\+\%(\d\+\%(\.\d\+\)\=\a\+\)*\)\=\w\@!"
syn match   kloadDuration "\%(\w\|\.\)\@<!-\=\d\+\%(\.\d\+\)\=\%(ms\|us\|s\|m\|h\|d\)\%(\d\+\%(\.\d\+\)\=\%(ms\|us\|s\|m\|h\|d\)\)*\w\@!"
syn match   kloadStatusRange "\<\d\+\.\.\d\+\>" contains=kloadRangeOp
syn match   kloadRangeOp contained "\.\."
syn match   kloadAssign "="
syn match   kloadOperator "==\|!=\|<=\|>=\|<\|>"

" ------------------------------------------------------------------ expressions (let, {{ }})
syn cluster kloadExpr contains=kloadComment,kloadString,kloadBoolean,kloadNull,kloadNumber,kloadDuration,kloadVar,kloadCall,kloadExprParen,kloadExprList
syn match   kloadVar  contained "\h\w*"
syn match   kloadCall contained "\h\w*\ze\s*("
syn region  kloadExprParen contained transparent start="(" end=")" contains=@kloadExpr
syn region  kloadExprList  contained transparent start="\[" end="]" contains=@kloadExpr

" ------------------------------------------------------------------ keywords
syn keyword kloadBlock scenario load stages
syn keyword kloadBlock data nextgroup=kloadVarDecl skipwhite skipnl
syn keyword kloadBlock user nextgroup=kloadTypeName skipwhite skipnl
syn keyword kloadBlock task sequence nextgroup=kloadFuncName skipwhite skipnl
syn keyword kloadBlock thresholds nextgroup=kloadThresholds skipwhite skipnl
syn keyword kloadLet let nextgroup=kloadLetName,kloadLetSecret skipwhite skipnl
syn keyword kloadCheck check
syn keyword kloadCheck capture nextgroup=kloadVarDecl,kloadCaptureSecret skipwhite skipnl
syn keyword kloadSleep sleep
syn keyword kloadConditional if else
syn keyword kloadRepeat repeat
syn keyword kloadOperatorWord exists matches not in
" `contains` cannot be a :syn keyword (it is one of the command's own arguments).
syn match   kloadOperatorWord "\<contains\>"
syn keyword kloadMode unique cycle random first all
syn keyword kloadAbort abort
syn keyword kloadSetting header nextgroup=kloadHeaderName skipwhite skipnl
syn keyword kloadSetting query field file cookie nextgroup=kloadParamName,kloadString skipwhite skipnl
syn keyword kloadSetting tags nextgroup=kloadTagName skipwhite skipnl
syn keyword kloadSetting tag nextgroup=kloadTagName skipwhite skipnl
syn keyword kloadSetting host timeout wait between constant pacing throughput from
syn keyword kloadSetting users spawn_rate run_time stop_timeout arrival_rate max_users
syn keyword kloadSetting ramp to over hold weight count on start stop name redirects off
syn keyword kloadSetting form nextgroup=kloadFormBody skipwhite skipnl
syn keyword kloadSetting json multipart named body type status jsonpath duration regex
syn keyword kloadSetting warn optional after
syn keyword kloadSetting auth basic bearer

" Names that follow a keyword.
syn match   kloadTypeName   contained "\h\w*"
syn match   kloadFuncName   contained "\h\w*"
syn match   kloadVarDecl    contained "\h\w*"
syn match   kloadLetName    contained "\h\w*" nextgroup=kloadLetAssign skipwhite
syn match   kloadLetAssign  contained "=" nextgroup=kloadLetExpr skipwhite
" `let secret NAME`: the marker only before a name (`let secret = 1` names a variable).
" Defined after the names so that it wins where both match.
syn match   kloadLetSecret     contained "\<secret\>\ze\s\+\h" nextgroup=kloadLetName skipwhite
syn match   kloadCaptureSecret contained "\<secret\>\ze\s\+\h" nextgroup=kloadVarDecl skipwhite
syn region  kloadLetExpr    contained start="\S\@=" end="$\|\ze}" contains=@kloadExpr
syn match   kloadHeaderName contained "[[:alnum:]_-]\+"
syn match   kloadParamName  contained "[[:alnum:]_.\[\]-]\+"
syn match   kloadTagName    contained "\h\w*" nextgroup=kloadTagComma skipwhite
syn match   kloadTagComma   contained "," nextgroup=kloadTagName skipwhite skipnl
" form { name: value, ... }: field names may be keywords (`type: "x"`).
syn region  kloadFormBody   contained transparent start="{" end="}" contains=kloadFormField,kloadJsonKey,kloadString,kloadInterp,kloadBoolean,kloadNull,kloadNumber,kloadDuration,kloadComment
syn match   kloadFormField  contained "[[:alnum:]_.\[\]-]\+\ze\s*:"

" GET "/path": any upper-case word is a method; its string is the path.
syn match   kloadMethod "\<\u\+\>" nextgroup=kloadPath skipwhite
syn region  kloadPath contained start=+"+ end=+"+ contains=kloadEscape,kloadEscapeError,kloadInterp

" ------------------------------------------------------------------ thresholds
syn region  kloadThresholds contained matchgroup=kloadBrace start="{" end="}" contains=kloadComment,kloadMetric,kloadSelector,kloadSetting,kloadAbort,kloadOperator,kloadNumber,kloadDuration
syn match   kloadMetric   contained "\<\a\%(\w\|\.\d\)*"
syn region  kloadSelector contained matchgroup=kloadBrace start="(" end=")" contains=kloadSetting,kloadString,kloadBareSelector
syn match   kloadBareSelector contained +[^)[:space:]"]\++

" ------------------------------------------------------------------ links
hi def link kloadComment      Comment
hi def link kloadTodo         Todo
hi def link kloadString       String
hi def link kloadPath         String
hi def link kloadJsonKey      Label
hi def link kloadEscape       SpecialChar
hi def link kloadEscapeError  Error
hi def link kloadInterpDelim  Delimiter
hi def link kloadBoolean      Boolean
hi def link kloadNull         Constant
hi def link kloadNumber       Number
hi def link kloadDuration     Number
hi def link kloadStatusRange  Number
hi def link kloadRangeOp      Operator
hi def link kloadOperator     Operator
hi def link kloadAssign       Operator
hi def link kloadLetAssign    Operator
hi def link kloadVar          Identifier
hi def link kloadCall         Function
hi def link kloadBlock        Keyword
hi def link kloadLet          Keyword
hi def link kloadCheck        Statement
hi def link kloadSleep        Keyword
hi def link kloadConditional  Conditional
hi def link kloadRepeat       Repeat
hi def link kloadOperatorWord Operator
hi def link kloadMode         Keyword
hi def link kloadAbort        Exception
hi def link kloadSetting      Keyword
hi def link kloadTypeName     Type
hi def link kloadFuncName     Function
hi def link kloadVarDecl      Identifier
hi def link kloadLetName      Identifier
hi def link kloadLetSecret    Keyword
hi def link kloadCaptureSecret Keyword
hi def link kloadHeaderName   Identifier
hi def link kloadParamName    Identifier
hi def link kloadFormField    Identifier
hi def link kloadTagName      Label
hi def link kloadMethod       Function
hi def link kloadMetric       Identifier
hi def link kloadBareSelector String

let b:current_syntax = "kload"

let &cpo = s:cpo_save
unlet s:cpo_save
