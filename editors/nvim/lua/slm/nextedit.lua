-- Next-edit suggestions: after a pause in editing, ask the server where the same change
-- belongs next (textDocument/copilotInlineEdit, only when the server advertises
-- experimental.copilotInlineEdit) and show the proposal away from the cursor: the text it
-- replaces highlighted, the new text as virtual text after it, a sign on its line. The
-- accept key jumps to it, pressed again it applies it; any other edit or a newer buffer
-- version discards it. Works on 0.7-0.11 (0.7-0.9 show the new text at the line's end,
-- having no inline virtual text).

local text = require('slm.text')
local compat = require('slm.compat')

local api = vim.api
local M = {}

local METHOD = 'textDocument/copilotInlineEdit'
local REQUEST_CANCELLED = -32800

M.ns = api.nvim_create_namespace('slm_nextedit')

local config = {
  delay_ms = 600, -- the pause in editing after which the server is asked
  sign = '»',
  get_client = function(_) return nil end,
  enabled = function(_) return true end,
}

local state = {
  timer = nil,
  pending = nil, -- { client, id, bufnr, tick } of the request in flight
  current = nil, -- { bufnr, tick, row, col, end_row, end_col, text, command } shown now
  applying = false, -- our own edit: its TextChanged is not the user's
  last_error = nil,
}

M.stats = { requests = 0, shown = 0, jumps = 0, applied = 0, discarded = 0 }

function M.configure(opts)
  for key, value in pairs(opts) do
    config[key] = value
  end
end

local function stop_timer()
  if state.timer then
    state.timer:stop()
    state.timer:close()
    state.timer = nil
  end
end

local function cancel()
  local pending = state.pending
  state.pending = nil
  if pending and pending.id and not compat.is_stopped(pending.client) then
    compat.cancel_request(pending.client, pending.id)
  end
end

local function clear()
  local current = state.current
  state.current = nil
  if current and api.nvim_buf_is_valid(current.bufnr) then
    api.nvim_buf_clear_namespace(current.bufnr, M.ns, 0, -1)
  end
end

--- Drop the proposal, the timer and the request in flight.
function M.discard()
  if state.current then
    M.stats.discarded = M.stats.discarded + 1
  end
  stop_timer()
  cancel()
  clear()
end

--- Does the server answer next-edit requests? (It says so under `experimental`.)
function M.supported(client)
  local caps = client and client.server_capabilities
  local experimental = type(caps) == 'table' and caps.experimental or nil
  return type(experimental) == 'table' and experimental.copilotInlineEdit ~= nil
    and experimental.copilotInlineEdit ~= vim.NIL
end

--- The proposal for the current buffer, still valid for its text: a copy, or nil.
function M.current()
  local current = state.current
  if not current or current.bufnr ~= api.nvim_get_current_buf() then
    return nil
  end
  if api.nvim_buf_get_changedtick(current.bufnr) ~= current.tick then
    return nil
  end
  return vim.deepcopy(current)
end

function M.pending()
  return M.current() ~= nil
end

local function show(bufnr, edit)
  clear()
  local lines = text.split_lines(edit.text)
  local opts = {
    end_row = edit.end_row,
    end_col = edit.end_col,
    hl_group = 'SlmNextEditDelete',
    sign_text = config.sign,
    sign_hl_group = 'SlmNextEditSign',
  }
  if edit.end_row == edit.row and edit.end_col == edit.col then
    opts.end_row, opts.end_col, opts.hl_group = nil, nil, nil -- a pure insertion: nothing to strike
  end
  api.nvim_buf_set_extmark(bufnr, M.ns, edit.row, edit.col, opts)
  -- The new text sits right after the text it replaces (0.7-0.9: at the end of the line).
  local after = { virt_text = { { lines[1], 'SlmNextEditInsert' } }, hl_mode = 'combine' }
  after.virt_text_pos = compat.has_010 and 'inline' or 'eol'
  if #lines > 1 then
    local rest = {}
    for i = 2, #lines do
      rest[#rest + 1] = { { lines[i], 'SlmNextEditInsert' } }
    end
    after.virt_lines = rest
  end
  api.nvim_buf_set_extmark(bufnr, M.ns, edit.end_row, edit.end_col, after)
  edit.bufnr = bufnr
  state.current = edit
  M.stats.shown = M.stats.shown + 1
end

--- The first edit meant for this buffer's current text, in byte positions.
local function usable_edit(bufnr, version, edits, encoding)
  local uri = vim.uri_from_bufnr(bufnr)
  for _, edit in ipairs(edits) do
    local doc = type(edit) == 'table' and edit.textDocument or nil
    local range = type(edit) == 'table' and edit.range or nil
    if type(doc) == 'table' and doc.uri == uri and doc.version == version and type(range) == 'table'
      and type(edit.text) == 'string' then
      local s, e = range.start, range['end']
      local first = api.nvim_buf_get_lines(bufnr, s.line, s.line + 1, false)[1]
      local last = api.nvim_buf_get_lines(bufnr, e.line, e.line + 1, false)[1]
      if first and last then
        return {
          row = s.line,
          col = text.char_to_byte(first, s.character, encoding),
          end_row = e.line,
          end_col = text.char_to_byte(last, e.character, encoding),
          text = edit.text,
          command = type(edit.command) == 'table' and edit.command or nil,
        }
      end
    end
  end
  return nil
end

local function on_response(err, result, request)
  if state.pending ~= request then
    return
  end
  state.pending = nil
  if err then
    if err.code ~= REQUEST_CANCELLED and err.message ~= state.last_error then
      state.last_error = err.message
      compat.notify('slm-lsp: next-edit request failed: ' .. tostring(err.message), vim.log.levels.WARN)
    end
    return
  end
  local bufnr = request.bufnr
  if not api.nvim_buf_is_valid(bufnr) or api.nvim_get_current_buf() ~= bufnr then
    return
  end
  if api.nvim_buf_get_changedtick(bufnr) ~= request.tick then
    return -- edited since: the proposal is for text that is gone
  end
  local edits = type(result) == 'table' and result.edits or nil
  if type(edits) ~= 'table' then
    return
  end
  local edit = usable_edit(bufnr, request.version, edits, request.client.offset_encoding)
  if edit then
    edit.tick = request.tick
    show(bufnr, edit)
  end
end

--- Ask now for the next edit in the current buffer (the previous request is cancelled).
function M.request()
  local bufnr = api.nvim_get_current_buf()
  cancel()
  if not config.enabled(bufnr) then
    return false
  end
  local client = config.get_client(bufnr)
  if not client or not M.supported(client) then
    return false
  end
  local version = vim.lsp.util.buf_versions[bufnr]
  if type(version) ~= 'number' then
    return false
  end
  local pos = api.nvim_win_get_cursor(0)
  local row, col = pos[1] - 1, pos[2]
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr), version = version },
    position = { line = row, character = text.byte_to_char(line, col, client.offset_encoding) },
  }
  local request = { client = client, bufnr = bufnr, tick = api.nvim_buf_get_changedtick(bufnr), version = version }
  state.pending = request
  -- client.request sends the buffer's pending didChange first, so `version` is the server's.
  local ok, id = compat.request(client, METHOD, params, function(e, result)
    on_response(e, result, request)
  end, bufnr)
  if not ok then
    state.pending = nil
    return false
  end
  request.id = id
  M.stats.requests = M.stats.requests + 1
  return true
end

--- The buffer changed (TextChanged, TextChangedI): drop the proposal and ask again after a pause.
function M.on_text_changed(bufnr)
  M.discard()
  if not config.enabled(bufnr) then
    return
  end
  local client = config.get_client(bufnr)
  if not client or not M.supported(client) then
    return
  end
  local timer = compat.uv.new_timer()
  state.timer = timer
  timer:start(config.delay_ms, 0, vim.schedule_wrap(function()
    if state.timer ~= timer then
      return
    end
    stop_timer()
    if api.nvim_get_current_buf() == bufnr then
      M.request()
    end
  end))
end

local function run_command(bufnr, command)
  local client = config.get_client(bufnr)
  if not client or type(command) ~= 'table' or type(command.command) ~= 'string' then
    return
  end
  compat.request(client, 'workspace/executeCommand', {
    command = command.command,
    arguments = command.arguments,
  }, function(err)
    if err and err.code ~= REQUEST_CANCELLED then
      compat.notify('slm-lsp: ' .. command.command .. ' failed: ' .. tostring(err.message), vim.log.levels.WARN)
    end
  end, bufnr)
end

--- The accept key with a proposal pending: the first press moves the cursor to it, the
--- next (cursor at its start) applies it. Returns whether it did either.
function M.jump_or_apply()
  local current = M.current()
  if not current then
    return false
  end
  local pos = api.nvim_win_get_cursor(0)
  if pos[1] - 1 ~= current.row or pos[2] ~= current.col then
    api.nvim_win_set_cursor(0, { current.row + 1, current.col })
    M.stats.jumps = M.stats.jumps + 1
    return true
  end
  local bufnr = current.bufnr
  stop_timer()
  cancel()
  clear()
  api.nvim_buf_set_text(bufnr, current.row, current.col, current.end_row, current.end_col, text.split_lines(current.text))
  local new_row, new_col = text.end_position(current.row, current.col, current.text)
  -- In normal mode the cursor sits on the last character of the new text.
  local insert = api.nvim_get_mode().mode:sub(1, 1) == 'i'
  if not insert and new_col > 0 and current.text ~= '' then
    new_col = new_col - 1
  end
  api.nvim_win_set_cursor(0, { new_row + 1, new_col })
  M.stats.applied = M.stats.applied + 1
  run_command(bufnr, current.command)
  return true
end

return M
