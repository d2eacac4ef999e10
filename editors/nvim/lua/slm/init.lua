-- slm-lsp for Neovim: starts `slm-lsp serve`, attaches it to file buffers and shows its
-- inline completions. On Neovim >= 0.12 the built-in vim.lsp.inline_completion does the
-- showing; on 0.7-0.11 lua/slm/ghost.lua does (debounced requests, cancellation on every
-- keystroke, extmark ghost text). See editors/nvim/README.md.

local compat = require('slm.compat')
local ghost = require('slm.ghost')
local nextedit = require('slm.nextedit')
local text = require('slm.text')

local api = vim.api
local M = {}

local STATUS_METHOD = 'slm/status'
local WHY_EXCLUDED_METHOD = 'slm/whyExcluded'
local METHOD_NOT_FOUND = -32601

local defaults = {
  cmd = { 'slm-lsp', 'serve' },
  model = nil, -- GGUF path; nil: SLM_LSP_MODEL or the embedded default
  init_options = {}, -- nCtx, nThreads, promptTokens, maxTokensSingle, ... (server README)
  filetypes = nil, -- only these filetypes; nil: every filetype not disabled below
  disabled_filetypes = { 'help', 'gitcommit', 'gitrebase', 'hgcommit', 'svn', 'markdown', 'text', '' },
  root_markers = { '.git', 'pyproject.toml', 'package.json', 'Cargo.toml', 'go.mod', '.hg' },
  debounce_ms = 75,
  next_edit = { enabled = true, delay_ms = 600 }, -- next-edit proposals after a pause in editing
  native = 'auto', -- 'auto': vim.lsp.inline_completion on >= 0.12; true / false to force
  keymaps = {
    accept = '<Tab>', -- falls back to the key's own meaning when nothing is shown
    accept_word = '<M-Right>',
    accept_line = '<M-Down>',
    dismiss = '<C-]>', -- hide without leaving insert mode (leaving it always hides)
    suggest = '<M-\\>', -- ask now instead of waiting for typing
  },
  hl_group = 'SlmSuggestion', -- linked to Comment unless the colour scheme defines it
}

M.config = vim.deepcopy(defaults)
M.client_id = nil

-- What :SlmStatus and statusline() show; updated from $/progress and slm/status.
M.status = {
  state = 'not started', -- or: starting, not loaded, loading, ready, failed, stopped
  percentage = nil,
  message = nil,
  error = nil,
  model = nil,
  family = nil,
  model_origin = nil,
  last = nil,
  gating = nil, -- { minConfidence, lastConfidence, lastGated, gated } from slm/status
}

local load_tokens = {}
local wired = {}

local function use_native()
  if M.config.native == 'auto' then
    return compat.has_native_inline
  end
  return M.config.native == true and compat.has_native_inline
end

function M.using_native()
  return use_native()
end

function M.client()
  return compat.get_client(M.client_id)
end

--- May this buffer be attached / get suggestions?
function M.enabled(bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  if not api.nvim_buf_is_valid(bufnr) or vim.g.slm_disabled == true then
    return false
  end
  local ok, disabled = pcall(api.nvim_buf_get_var, bufnr, 'slm_disabled')
  if ok and disabled == true then
    return false
  end
  if vim.bo[bufnr].buftype ~= '' then
    return false
  end
  local filetype = vim.bo[bufnr].filetype
  if M.config.filetypes and not vim.tbl_contains(M.config.filetypes, filetype) then
    return false
  end
  return not vim.tbl_contains(M.config.disabled_filetypes, filetype)
end

local function find_root(bufnr)
  local name = api.nvim_buf_get_name(bufnr)
  local dir = name ~= '' and vim.fn.fnamemodify(name, ':p:h') or vim.fn.getcwd()
  while dir and dir ~= '' do
    for _, marker in ipairs(M.config.root_markers) do
      if compat.uv.fs_stat(dir .. '/' .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      break
    end
    dir = parent
  end
  return vim.fn.getcwd()
end

-- Status -------------------------------------------------------------------------------

local function apply_status(result)
  if type(result) ~= 'table' then
    return
  end
  local s = M.status
  s.state = result.state or s.state
  s.error = result.error ~= vim.NIL and result.error or nil
  s.model = result.model ~= vim.NIL and result.model or nil
  s.family = result.family ~= vim.NIL and result.family or nil
  s.model_origin = result.modelOrigin ~= vim.NIL and result.modelOrigin or nil
  if type(result.last) == 'table' and next(result.last) ~= nil then
    s.last = result.last
  end
  if type(result.gating) == 'table' then
    s.gating = result.gating
  end
  if s.state ~= 'loading' then
    s.percentage = nil
  end
  pcall(vim.cmd, 'redrawstatus')
end

--- Ask the server for slm/status; `callback(result_or_nil, err)` runs afterwards.
function M.refresh_status(callback)
  local client = M.client()
  if not client then
    if callback then
      callback(nil, { message = 'the slm-lsp server is not running' })
    end
    return
  end
  compat.request(client, STATUS_METHOD, vim.empty_dict(), function(err, result)
    if not err then
      apply_status(result)
    end
    if callback then
      callback(result, err)
    end
  end)
end

local function latency_ms(last)
  if type(last) ~= 'table' or type(last.prompt_ms) ~= 'number' or type(last.generation_ms) ~= 'number' then
    return nil
  end
  return last.prompt_ms + last.generation_ms
end

--- A short status for 'statusline': "slm 45%", "slm 312ms", "slm failed", "slm off".
function M.statusline()
  local s = M.status
  if vim.g.slm_disabled == true then
    return 'slm off'
  end
  if s.state == 'loading' or s.state == 'starting' or s.state == 'not loaded' then
    return s.percentage and ('slm ' .. s.percentage .. '%') or 'slm …'
  elseif s.state == 'ready' then
    local ms = latency_ms(s.last)
    return ms and string.format('slm %dms', math.floor(ms + 0.5)) or 'slm'
  elseif s.state == 'failed' then
    return 'slm failed'
  elseif s.state == 'stopped' then
    return 'slm stopped'
  end
  return ''
end

--- The full status as lines (what :SlmStatus prints).
function M.status_lines()
  local s = M.status
  local lines = {}
  local head = 'slm-lsp: ' .. s.state
  if s.state == 'loading' and s.percentage then
    head = head .. ' ' .. s.percentage .. '%' .. (s.message and (' (' .. s.message .. ')') or '')
  end
  lines[#lines + 1] = head
  if s.error then
    lines[#lines + 1] = 'error: ' .. s.error
  end
  if s.model then
    local details = {}
    if s.family and s.family ~= 'none' then
      details[#details + 1] = s.family .. ' FIM'
    end
    if s.model_origin then
      details[#details + 1] = s.model_origin
    end
    lines[#lines + 1] = 'model: ' .. s.model .. (#details > 0 and (' (' .. table.concat(details, ', ') .. ')') or '')
  end
  local ms = latency_ms(s.last)
  if ms then
    lines[#lines + 1] = string.format(
      'last completion: %d ms (prompt %d ms, generation %d ms, %s tokens, %s)',
      math.floor(ms + 0.5),
      math.floor(s.last.prompt_ms + 0.5),
      math.floor(s.last.generation_ms + 0.5),
      tostring(s.last.generated_tokens or '?'),
      tostring(s.last.stopReason or '?')
    )
  end
  local gating = s.gating
  if type(gating) == 'table' and type(gating.minConfidence) == 'number' then
    local hidden = type(gating.gated) == 'number' and string.format(', %d hidden so far', gating.gated) or ''
    if type(gating.lastConfidence) == 'number' then
      lines[#lines + 1] = string.format(
        'confidence: last %.2f (%s; hidden below %.2f)%s',
        gating.lastConfidence,
        gating.lastGated == true and 'hidden' or 'shown',
        gating.minConfidence,
        hidden
      )
    else
      lines[#lines + 1] = string.format('confidence: suggestions below %.2f are hidden%s', gating.minConfidence, hidden)
    end
  end
  lines[#lines + 1] = string.format(
    'inline completion: %s; requests %d, cancelled %d, shown %d, accepted %d, prefetches %d',
    use_native() and 'native vim.lsp.inline_completion' or 'slm.nvim ghost text',
    ghost.stats.requests,
    ghost.stats.cancels,
    ghost.stats.shown,
    ghost.stats.accepted,
    ghost.stats.prefetches
  )
  return lines
end

local function progress_handler(err, result, ctx, cfg)
  local value = type(result) == 'table' and result.value or nil
  if type(value) == 'table' then
    local token = tostring(result.token)
    if value.kind == 'begin' and (token:find('^slm%-lsp%-load') or tostring(value.title or ''):lower():find('load')) then
      load_tokens[token] = true
      M.status.state = 'loading'
    end
    if load_tokens[token] then
      if type(value.percentage) == 'number' then
        M.status.percentage = value.percentage
      end
      if value.message then
        M.status.message = value.message
      end
      if value.kind == 'end' then
        load_tokens[token] = nil
        M.status.percentage = nil
        vim.schedule(function()
          M.refresh_status()
        end)
      end
      pcall(vim.cmd, 'redrawstatus')
    end
  end
  local default = vim.lsp.handlers['$/progress']
  if default then
    return default(err, result, ctx, cfg)
  end
end

-- Client -------------------------------------------------------------------------------

local function client_config(root)
  local init_options = vim.deepcopy(M.config.init_options or {})
  if M.config.model and M.config.model ~= '' then
    init_options.model = vim.fn.expand(M.config.model)
  end
  return {
    name = 'slm',
    cmd = M.config.cmd,
    root_dir = root,
    init_options = init_options,
    handlers = { ['$/progress'] = progress_handler },
    on_init = function(client)
      M.status.state = 'not loaded'
      if use_native() then
        vim.lsp.inline_completion.enable(true, { client_id = client.id })
      end
      vim.schedule(function()
        M.refresh_status()
      end)
    end,
    on_exit = function(code, signal, client_id)
      vim.schedule(function()
        if client_id == M.client_id or client_id == nil then
          M.status.state = 'stopped'
          M.status.error = (code ~= 0 or (signal or 0) ~= 0)
              and string.format('the server exited (code %s, signal %s)', tostring(code), tostring(signal))
            or nil
          ghost.dismiss()
          pcall(vim.cmd, 'redrawstatus')
        end
      end)
    end,
  }
end

local function wire_buffer(bufnr)
  if wired[bufnr] then
    return
  end
  wired[bufnr] = true
  local group = api.nvim_create_augroup('slm_buffer_' .. bufnr, { clear = true })
  local function on(events, fn)
    api.nvim_create_autocmd(events, { group = group, buffer = bufnr, callback = fn })
  end
  on({ 'BufWipeout', 'BufUnload' }, function()
    wired[bufnr] = nil
    pcall(api.nvim_del_augroup_by_id, group)
  end)
  -- The cursor rests: the server warms the prompt there (both display paths).
  on({ 'CursorHold', 'CursorHoldI' }, function()
    ghost.prefetch(bufnr)
  end)
  on('BufEnter', function()
    ghost.prefetch(bufnr, true)
  end)
  -- Next-edit proposals (both display paths): asked after a pause, dropped on any edit.
  on({ 'TextChanged', 'TextChangedI' }, function()
    nextedit.on_text_changed(bufnr)
  end)
  on('BufLeave', function()
    nextedit.discard()
  end)
  if use_native() then
    return
  end
  on({ 'TextChangedI', 'TextChangedP' }, function()
    ghost.on_text_changed(bufnr)
  end)
  on('CursorMovedI', function()
    ghost.on_cursor_moved(bufnr)
  end)
  on('InsertEnter', function()
    ghost.on_insert_enter(bufnr)
  end)
  on({ 'InsertLeave', 'BufLeave' }, function()
    ghost.on_insert_leave()
  end)
end

--- Start the server if needed and attach it to `bufnr` (when the buffer is enabled).
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  if not M.enabled(bufnr) then
    return nil
  end
  local client = M.client()
  if client then
    if not compat.buf_is_attached(bufnr, client.id) then
      vim.lsp.buf_attach_client(bufnr, client.id)
    end
  else
    M.status.state = 'starting'
    local cfg = client_config(find_root(bufnr))
    local id
    if vim.lsp.start then
      id = vim.lsp.start(cfg, {
        bufnr = bufnr,
        -- One server for all buffers is kept in M.client_id; here a new one is wanted
        -- (first start, or a restart while the old process is still shutting down).
        reuse_client = function()
          return false
        end,
      })
    else
      id = vim.lsp.start_client(cfg)
      if id then
        vim.lsp.buf_attach_client(bufnr, id)
      end
    end
    if not id then
      M.status.state = 'stopped'
      M.status.error = 'could not start ' .. table.concat(M.config.cmd, ' ')
      compat.notify('slm-lsp: ' .. M.status.error .. ' (is slm-lsp installed and on PATH?)', vim.log.levels.ERROR)
      return nil
    end
    M.client_id = id
  end
  wire_buffer(bufnr)
  return M.client_id
end

function M.stop()
  ghost.dismiss()
  nextedit.discard()
  local client = M.client()
  M.client_id = nil
  if client then
    compat.stop(client)
  end
  M.status.state = 'stopped'
  M.status.error = nil
end

function M.restart()
  local buffers = {}
  local client = M.client()
  if client then
    for _, bufnr in ipairs(api.nvim_list_bufs()) do
      if compat.buf_is_attached(bufnr, client.id) then
        buffers[#buffers + 1] = bufnr
      end
    end
  end
  M.stop()
  load_tokens = {}
  M.status = { state = 'not started' }
  -- The old process needs a moment to go; a new one can start meanwhile.
  vim.defer_fn(function()
    local current = api.nvim_get_current_buf()
    if #buffers == 0 then
      buffers = { current }
    end
    for _, bufnr in ipairs(buffers) do
      if api.nvim_buf_is_valid(bufnr) then
        M.attach(bufnr)
      end
    end
  end, 100)
end

-- Accepting (native 0.12 path and the ghost-text path) ----------------------------------

-- On 0.12, trim a native item to its next word or line before it is inserted.
local function native_partial(what)
  return function(item)
    local insert = item.insert_text
    if type(insert) ~= 'string' then
      return item
    end
    local row, col = unpack(api.nvim_win_get_cursor(0))
    local typed = 0
    local range = item.range
    if type(range) == 'table' then
      local start_row = range.start_row or range[1]
      local start_col = range.start_col or range[2]
      if start_row == row - 1 and type(start_col) == 'number' and start_col <= col then
        typed = col - start_col
      end
    end
    local rest = insert:sub(typed + 1)
    local piece = what == 'word' and text.next_word(rest) or text.next_line(rest)
    item.insert_text = insert:sub(1, typed) .. piece
    return item
  end
end

--- Is a suggestion shown that the accept keys would take?
function M.can_accept()
  if use_native() then
    return false -- the native API answers through get()
  end
  return ghost.visible()
end

--- Accept all of the suggestion, or its next 'word' / 'line'. Returns whether it did.
function M.accept(what)
  return ghost.accept(what or 'all')
end

--- Jump to the pending next edit, or apply it when the cursor is there. Returns whether it did.
function M.next_edit()
  return nextedit.jump_or_apply()
end

function M.dismiss()
  ghost.dismiss()
  nextedit.discard()
end

function M.suggest()
  if use_native() then
    vim.lsp.inline_completion.get()
    return
  end
  ghost.request(1)
end

local function fallback_for(lhs)
  local existing = vim.fn.maparg(lhs, 'i', false, true)
  if type(existing) ~= 'table' or vim.tbl_isempty(existing) or existing.buffer == 1 then
    return function()
      return lhs
    end
  end
  if existing.callback then
    return function()
      local result = existing.callback()
      if existing.expr == 1 and type(result) == 'string' then
        return result
      end
      return ''
    end
  end
  if existing.expr == 1 then
    return function()
      return api.nvim_eval(existing.rhs)
    end
  end
  return function()
    return existing.rhs
  end
end

local actions = {
  accept = function()
    if not M.accept('all') then
      nextedit.jump_or_apply()
    end
  end,
  next_edit = function()
    nextedit.jump_or_apply()
  end,
  accept_word = function()
    M.accept('word')
  end,
  accept_line = function()
    M.accept('line')
  end,
  dismiss = function()
    M.dismiss()
  end,
  suggest = function()
    M.suggest()
  end,
}

--- Run a key's action (the keymaps call this through <Cmd>, outside the expr's textlock).
function M._action(name)
  actions[name]()
end

local function set_keymaps()
  for name, lhs in pairs(M.config.keymaps or {}) do
    if lhs and lhs ~= '' and actions[name] then
      local fallback = fallback_for(lhs)
      local command = string.format("<Cmd>lua require('slm')._action(%q)<CR>", name)
      vim.keymap.set('i', lhs, function()
        if use_native() then
          if name == 'accept' then
            if vim.lsp.inline_completion.get() then
              return ''
            end
            return nextedit.pending() and command or fallback()
          elseif name == 'accept_word' or name == 'accept_line' then
            local partial = native_partial(name == 'accept_word' and 'word' or 'line')
            return vim.lsp.inline_completion.get({ on_accept = partial }) and '' or fallback()
          elseif name == 'suggest' then
            return command
          end
          return fallback()
        end
        if name == 'suggest' or ghost.visible() or (name == 'accept' and nextedit.pending()) then
          return command
        end
        return fallback()
      end, { expr = true, silent = true, desc = 'slm-lsp: ' .. name:gsub('_', ' ') })
    end
  end
  local lhs = M.config.keymaps and M.config.keymaps.accept
  if lhs and lhs ~= '' then
    -- Normal mode: the key jumps to / applies a pending next edit, else keeps its meaning.
    vim.keymap.set('n', lhs, function()
      return nextedit.pending() and "<Cmd>lua require('slm')._action('next_edit')<CR>" or lhs
    end, { expr = true, silent = true, desc = 'slm-lsp: jump to / apply the next edit' })
  end
end

-- Commands -----------------------------------------------------------------------------

function M.why_excluded(bufnr, callback)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local client = M.client()
  local function report(message, level)
    if callback then
      callback(message, level)
    else
      compat.notify(message, level)
    end
  end
  if not client then
    report('slm-lsp: the server is not running (:SlmRestart starts it)', vim.log.levels.WARN)
    return
  end
  local name = api.nvim_buf_get_name(bufnr)
  local label = name ~= '' and vim.fn.fnamemodify(name, ':~:.') or '[No Name]'
  compat.request(client, WHY_EXCLUDED_METHOD, { uri = vim.uri_from_bufnr(bufnr) }, function(err, result)
    if err then
      if err.code == METHOD_NOT_FOUND then
        report(
          'slm-lsp: the running server does not answer ' .. WHY_EXCLUDED_METHOD
            .. ' (it has no privacy gate yet); upgrade slm-lsp for per-file explanations',
          vim.log.levels.WARN
        )
      else
        report('slm-lsp: ' .. WHY_EXCLUDED_METHOD .. ' failed: ' .. tostring(err.message), vim.log.levels.ERROR)
      end
      return
    end
    if type(result) ~= 'table' or type(result.excluded) ~= 'boolean' then
      report('slm-lsp: unexpected answer to ' .. WHY_EXCLUDED_METHOD .. ': ' .. vim.inspect(result), vim.log.levels.ERROR)
      return
    end
    local explanation = type(result.explanation) == 'string' and result.explanation or ''
    if result.excluded then
      local rule = (type(result.rule) == 'string' and result.rule ~= '') and (' by rule "' .. result.rule .. '"') or ''
      report(
        string.format('slm-lsp: %s is excluded%s; no completions are made in it. %s', label, rule, explanation),
        vim.log.levels.WARN
      )
    else
      report(string.format('slm-lsp: %s is not excluded; completions are on. %s', label, explanation), vim.log.levels.INFO)
    end
  end, bufnr)
end

local function create_commands()
  local command = api.nvim_create_user_command
  command('SlmStatus', function()
    -- Answers at once (with the cached status) when the server is not running.
    M.refresh_status(function()
      compat.notify(table.concat(M.status_lines(), '\n'))
    end)
  end, { desc = 'slm-lsp: model state, last completion timings' })
  command('SlmWhyExcluded', function()
    M.why_excluded(0)
  end, { desc = 'slm-lsp: why is this file excluded from completions?' })
  command('SlmEdit', function(o)
    require('slm.edit').edit_lines(M.client(), api.nvim_get_current_buf(), o.line1, o.line2, o.args ~= '' and o.args or nil)
  end, { range = true, nargs = '?', desc = 'slm-lsp: rewrite the lines following an instruction (proposal first)' })
  command('SlmRestart', function()
    M.restart()
  end, { desc = 'slm-lsp: restart the server' })
  command('SlmToggle', function()
    vim.g.slm_disabled = not (vim.g.slm_disabled == true)
    if vim.g.slm_disabled then
      ghost.dismiss()
    end
    compat.notify('slm-lsp: inline suggestions ' .. (vim.g.slm_disabled and 'off' or 'on'))
  end, { desc = 'slm-lsp: switch inline suggestions off or on' })
end

--- Configure and start. Options are merged into the defaults (see the README).
function M.setup(opts)
  opts = opts or {}
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts)
  if opts.disabled_filetypes then
    M.config.disabled_filetypes = opts.disabled_filetypes -- a list replaces, never merges
  end
  if opts.filetypes then
    M.config.filetypes = opts.filetypes
  end
  vim.cmd('highlight default link SlmSuggestion Comment')
  vim.cmd('highlight default link SlmNextEditDelete DiffDelete')
  vim.cmd('highlight default link SlmNextEditInsert DiffAdd')
  vim.cmd('highlight default link SlmNextEditSign DiffChange')
  nextedit.configure({
    delay_ms = M.config.next_edit.delay_ms,
    get_client = function(bufnr)
      local client = M.client()
      if client and compat.buf_is_attached(bufnr, client.id) then
        return client
      end
      return nil
    end,
    enabled = function(bufnr)
      return M.config.next_edit.enabled ~= false and M.enabled(bufnr)
    end,
  })
  ghost.configure({
    debounce_ms = M.config.debounce_ms,
    hl_group = M.config.hl_group,
    get_client = function(bufnr)
      local client = M.client()
      if client and compat.buf_is_attached(bufnr, client.id) then
        return client
      end
      return nil
    end,
    enabled = function(bufnr)
      return M.enabled(bufnr)
    end,
    on_response = function()
      M.refresh_status()
    end,
  })
  set_keymaps()
  create_commands()
  require('slm.edit').register()
  local group = api.nvim_create_augroup('slm', { clear = true })
  api.nvim_create_autocmd({ 'FileType', 'BufEnter' }, {
    group = group,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  for _, bufnr in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(bufnr) then
      M.attach(bufnr)
    end
  end
end

return M
