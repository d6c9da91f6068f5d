-- Loads the kload parser ($KLOAD_PARSER) and a highlights query ($KLOAD_QUERY) into Neovim's
-- own tree-sitter, parses $KLOAD_FILE, and writes to $KLOAD_OUT `error=true|false` and one
-- `capture=N` line per capture name. Works with Neovim 0.7 and later.
local out = {}
local ok, err = pcall(function()
  local ts = vim.treesitter
  if ts.language and ts.language.add then
    ts.language.add('kload', { path = os.getenv('KLOAD_PARSER') })
  else
    ts.require_language('kload', os.getenv('KLOAD_PARSER'))
  end
  local src = table.concat(vim.fn.readfile(os.getenv('KLOAD_FILE')), '\n')
  local tree = ts.get_string_parser(src, 'kload'):parse()[1]
  local text = table.concat(vim.fn.readfile(os.getenv('KLOAD_QUERY')), '\n')
  local query = (ts.query and ts.query.parse) and ts.query.parse('kload', text) or ts.parse_query('kload', text)
  local counts = {}
  for id in query:iter_captures(tree:root(), src, 0, -1) do
    local name = query.captures[id]
    counts[name] = (counts[name] or 0) + 1
  end
  table.insert(out, 'error=' .. tostring(tree:root():has_error()))
  for name, n in pairs(counts) do table.insert(out, name .. '=' .. n) end
end)
if not ok then out = { 'failed=' .. tostring(err) } end
vim.fn.writefile(out, os.getenv('KLOAD_OUT'))
