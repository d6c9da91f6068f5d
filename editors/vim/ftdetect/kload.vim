" kload load-test scenarios
autocmd BufRead,BufNewFile *.kload setfiletype kload
