" Vim indent file
" Language: kload load-test scenarios (.kload)
" One level per open brace, bracket or parenthesis; closers line up with their opener.

if exists("b:did_indent")
  finish
endif
let b:did_indent = 1

setlocal indentexpr=GetKloadIndent(v:lnum)
setlocal indentkeys=0{,0},0],0),!^F,o,O
setlocal autoindent nolisp nosmartindent nocindent
let b:undo_indent = "setlocal indentexpr< indentkeys< autoindent< lisp< smartindent< cindent<"

if exists("*GetKloadIndent")
  finish
endif

" The line without its strings and comment, so braces in them do not count.
function! s:Code(lnum) abort
  let line = getline(a:lnum)
  let line = substitute(line, '"\%([^"\\]\|\\.\)*"', '""', 'g')
  return substitute(line, '#.*$', '', '')
endfunction

function! s:Count(text, pattern) abort
  return len(substitute(a:text, a:pattern, '', 'g'))
endfunction

function! GetKloadIndent(lnum) abort
  let prev = prevnonblank(a:lnum - 1)
  if prev == 0
    return 0
  endif
  let code = s:Code(prev)
  " Closers at the start of the previous line were already taken off its own indent.
  let leading = s:Count(matchstr(code, '^\s*[}\])]*'), '[^}\])]')
  let net = s:Count(code, '[^{[(]') - (s:Count(code, '[^}\])]') - leading)
  let ind = indent(prev) + net * shiftwidth()
  let ind -= s:Count(matchstr(getline(a:lnum), '^\s*[}\])]*'), '[^}\])]') * shiftwidth()
  return max([ind, 0])
endfunction
