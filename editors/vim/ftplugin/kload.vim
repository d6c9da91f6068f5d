" Vim filetype plugin
" Language: kload load-test scenarios (.kload)

if exists("b:did_ftplugin")
  finish
endif
let b:did_ftplugin = 1

setlocal comments=:# commentstring=#\ %s
setlocal formatoptions-=t formatoptions+=croql
let b:undo_ftplugin = "setlocal comments< commentstring< formatoptions<"

" The style of the examples in scenarios/: two spaces per level.
" Set g:kload_recommended_style = 0 in your vimrc to keep your own settings.
if get(g:, "kload_recommended_style", 1)
  setlocal expandtab shiftwidth=2 softtabstop=2
  let b:undo_ftplugin .= " | setlocal expandtab< shiftwidth< softtabstop<"
endif
