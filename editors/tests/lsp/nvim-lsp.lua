-- Neovim's own LSP client against `kload lsp`: opens $KLOAD_FILE, waits for the
-- diagnostics, asks for completion and hover, applies the quick fix, formats the buffer,
-- and writes what it saw to $KLOAD_OUT (one `key=value` line each). Exits 1 when
-- something is missing or wrong, listing it as `fail=` lines. Works with Neovim 0.7
-- (vim.lsp.start_client) and later (vim.lsp.start).
local out, failed = {}, false
local function put(key, value) table.insert(out, key .. '=' .. tostring(value)) end
local function fail(why) failed = true; put('fail', why) end
local function check(ok, why) if not ok then fail(why) end return ok end

local ok, err = pcall(function()
  local file = os.getenv('KLOAD_FILE')
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  vim.bo[bufnr].filetype = 'kload'
  local config = {
    name = 'kload',
    cmd = { os.getenv('KLOAD_BIN'), 'lsp' },
    root_dir = vim.fn.fnamemodify(file, ':p:h'),
  }
  local client_id
  if vim.lsp.start then
    client_id = vim.lsp.start(config)
  else
    client_id = vim.lsp.start_client(config)
    vim.lsp.buf_attach_client(bufnr, client_id)
  end
  put('client', client_id ~= nil)
  local uri = vim.uri_from_bufnr(bufnr)

  -- Diagnostics arrive on their own after didOpen.
  local function alive() return vim.lsp.get_client_by_id(client_id) ~= nil end
  check(vim.wait(20000, function() return #vim.diagnostic.get(bufnr) > 0 or not alive() end, 20)
    and alive(), 'no diagnostics within 20 s (or the server stopped)')
  if not alive() then error('the server is not running') end
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    put('diagnostic', string.format('%s@%d:%d', d.code or '?', d.lnum, d.col))
  end

  local function request(method, params)
    local responses = vim.lsp.buf_request_sync(bufnr, method, params, 10000)
    local r = responses and responses[client_id]
    -- Neovim 0.7 names the error `error`, later versions `err`.
    check(r ~= nil and (r.err or r.error) == nil, method .. ' failed: ' .. vim.inspect(r))
    return r and r.result
  end
  local function at(line, character)
    return { textDocument = { uri = uri }, position = { line = line, character = character } }
  end
  local function labels(result)
    local items = result and (result.items or result) or {}
    local names = {}
    for _, item in ipairs(items) do table.insert(names, item.label) end
    table.sort(names)
    return table.concat(names, ',')
  end

  -- Completion: among a request's items, and in an expression.
  put('complete_request', labels(request('textDocument/completion', at(5, 6))))
  put('complete_expression', labels(request('textDocument/completion', at(7, 22))))

  local hover = request('textDocument/hover', at(5, 8))
  local contents = hover and hover.contents or {}
  put('hover', (contents.value or ''):gsub('\n', ' '))

  -- The quick fix of the did-you-mean diagnostic, applied as an editor applies it.
  local actions = request('textDocument/codeAction', {
    textDocument = { uri = uri },
    range = { start = { line = 7, character = 23 }, ['end'] = { line = 7, character = 23 } },
    context = { diagnostics = {} },
  }) or {}
  put('action', actions[1] and actions[1].title or 'none')
  if check(actions[1] ~= nil, 'no quick fix') then
    vim.lsp.util.apply_workspace_edit(actions[1].edit, 'utf-16')
    -- The change goes to the server; its diagnostics for the new text come back.
    check(vim.wait(20000, function() return #vim.diagnostic.get(bufnr) == 0 end, 20),
      'the diagnostics were not cleared after the fix')
  end

  -- Formatting, as :lua vim.lsp.buf.format() does it.
  if vim.lsp.buf.format then
    vim.lsp.buf.format({ bufnr = bufnr, timeout_ms = 10000 })
  else
    vim.lsp.buf.formatting_sync(nil, 10000)
  end
  vim.fn.writefile(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), os.getenv('KLOAD_FORMATTED'))

  vim.lsp.stop_client(client_id)
  check(vim.wait(10000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 20), 'the server did not stop')
end)
if not ok then fail(tostring(err)) end
vim.fn.writefile(out, os.getenv('KLOAD_OUT'))
vim.cmd(failed and 'cquit 1' or 'qall!')
