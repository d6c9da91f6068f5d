; Folds for Neovim (foldmethod=expr with vim.treesitter.foldexpr()).
[
  (scenario_block)
  (load_block)
  (stages_block)
  (user_block)
  (on_start)
  (on_stop)
  (task_block)
  (sequence_block)
  (step_block)
  (request_block)
  (json_object)
  (json_array)
  (form_body)
  (multipart_body)
  (thresholds_block)
] @fold
