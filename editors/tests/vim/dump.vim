" Writes, for every byte of the current buffer, the syntax item under it, the highlight
" group that item links to, and the stack of syntax items, to the file named by
" $KLOAD_SYNOUT: `line<TAB>col<TAB>item<TAB>link<TAB>stack`, `-` where there is none.
" Used by editors/tests/vim.js; runs in Vim (`vim -es`) and Neovim (`nvim --headless`).

let s:links = {}

" The group `name` links to directly (kloadMethod -> Function), or `-`.
function! s:Link(name) abort
  if empty(a:name)
    return '-'
  endif
  if !has_key(s:links, a:name)
    let target = matchstr(execute('highlight ' . a:name), 'links to \zs\S\+')
    let s:links[a:name] = empty(target) ? '-' : target
  endif
  return s:links[a:name]
endfunction

function! KloadSynDump() abort
  let out = []
  for lnum in range(1, line('$'))
    let text = getline(lnum)
    for col in range(1, len(text))
      let name = synIDattr(synID(lnum, col, 1), 'name')
      let stack = map(synstack(lnum, col), 'synIDattr(v:val, "name")')
      call add(out, printf("%d\t%d\t%s\t%s\t%s", lnum, col, empty(name) ? '-' : name, s:Link(name), empty(stack) ? '-' : join(stack, ',')))
    endfor
  endfor
  call writefile(out, $KLOAD_SYNOUT)
endfunction

" Re-indents the whole buffer with the kload indent file and writes the result.
function! KloadReindent() abort
  normal! gg=G
  call writefile(getline(1, '$'), $KLOAD_SYNOUT)
endfunction
