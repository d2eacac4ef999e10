-- Inline suggestions for Neovim 0.7-0.11, which have no vim.lsp.inline_completion:
-- request textDocument/inlineCompletion while typing (debounced), cancel the previous
-- request on every keystroke and on InsertLeave, show the answer as extmark ghost text
-- (virt_text for the cursor line, virt_lines below it) and accept all of it, a word or a
-- line. A whole accept runs the item's command (slm.acceptedCompletion) through
-- workspace/executeCommand, so the server computes the next suggestion at once; a cursor
-- at rest sends slm/prefetch so the first request there starts warm.

local text = require('slm.text')
local compat = require('slm.compat')

local api = vim.api
local M = {}

local METHOD = 'textDocument/inlineCompletion'
local PREFETCH_METHOD = 'slm/prefetch'
local REQUEST_CANCELLED = -32800

M.ns = api.nvim_create_namespace('slm_ghost')

local config = {
  debounce_ms = 75,
  hl_group = 'SlmSuggestion',
  get_client = function(_) return nil end, -- the slm client attached to a buffer, if any
  enabled = function(_) return true end, -- may this buffer get suggestions now?
  on_response = function(_) end, -- after every answer (the status line refreshes)
}

-- One suggestion at a time: only one buffer is in insert mode.
local state = {
  timer = nil, -- debounce timer
  pending = nil, -- { client, id, bufnr } of the request in flight
  current = nil, -- { bufnr, row, col, text, tail, extmark } shown now
  expect = nil, -- { bufnr, tick, row, col } after our own edit: its events are not typing
  prefetched = nil, -- { bufnr, tick, row, col } of the last slm/prefetch: each rest is sent once
  last_error = nil,
}

-- Counters for :SlmStatus and the tests.
M.stats = { requests = 0, cancels = 0, shown = 0, accepted = 0, prefetches = 0, accept_commands = 0 }

function M.configure(opts)
  for key, value in pairs(opts) do
    config[key] = value
  end
end

local function in_insert_mode()
  return api.nvim_get_mode().mode:sub(1, 1) == 'i'
end

local function cursor()
  local pos = api.nvim_win_get_cursor(0)
  return pos[1] - 1, pos[2]
end

local function clear()
  local current = state.current
  state.current = nil
  if current and api.nvim_buf_is_valid(current.bufnr) then
    api.nvim_buf_clear_namespace(current.bufnr, M.ns, 0, -1)
  end
end

local function stop_timer()
  if state.timer then
    state.timer:stop()
    state.timer:close()
    state.timer = nil
  end
end

--- Cancel the request in flight, if any ($/cancelRequest to the server).
function M.cancel()
  local pending = state.pending
  state.pending = nil
  if pending and not compat.is_stopped(pending.client) then
    compat.cancel_request(pending.client, pending.id)
    M.stats.cancels = M.stats.cancels + 1
  end
end

--- Hide the suggestion, stop the debounce and cancel the request in flight.
function M.dismiss()
  stop_timer()
  M.cancel()
  clear()
  state.expect = nil
end

--- Is a suggestion shown at the cursor?
function M.visible()
  local current = state.current
  if not current or current.bufnr ~= api.nvim_get_current_buf() then
    return false
  end
  local row, col = cursor()
  return row == current.row and col == current.col
end

--- The suggestion shown now: { text, tail, row, col } or nil.
function M.current()
  local current = state.current
  if not current then
    return nil
  end
  return { text = current.text, tail = current.tail, row = current.row, col = current.col }
end

local function show(bufnr, row, col, suggestion)
  clear()
  local lines = text.split_lines(suggestion.text)
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  local opts = { hl_mode = 'combine' }
  if lines[1] ~= '' then
    opts.virt_text = { { lines[1], config.hl_group } }
    if compat.has_010 then
      opts.virt_text_pos = 'inline' -- pushes the rest of the line to the right
    elseif col >= #line then
      opts.virt_text_pos = 'overlay' -- at the end of the line it looks inline
    else
      opts.virt_text_pos = 'eol' -- 0.7-0.9 cannot insert inside a line
    end
  end
  if #lines > 1 then
    local virt_lines = {}
    for i = 2, #lines do
      virt_lines[#virt_lines + 1] = { { lines[i], config.hl_group } }
    end
    opts.virt_lines = virt_lines
  end
  local extmark = api.nvim_buf_set_extmark(bufnr, M.ns, row, col, opts)
  state.current = {
    bufnr = bufnr,
    row = row,
    col = col,
    text = suggestion.text,
    tail = suggestion.tail or '',
    command = suggestion.command, -- the item's command, run when all of it is accepted
    extmark = extmark,
  }
  M.stats.shown = M.stats.shown + 1
end

local function on_response(err, result, request)
  if state.pending ~= request then
    return -- superseded or cancelled: a newer keystroke owns the screen
  end
  state.pending = nil
  local client, bufnr = request.client, request.bufnr
  pcall(config.on_response, client)
  if err then
    if err.code ~= REQUEST_CANCELLED and err.message ~= state.last_error then
      state.last_error = err.message
      compat.notify('slm-lsp: inline completion failed: ' .. tostring(err.message), vim.log.levels.WARN)
    end
    return
  end
  if not api.nvim_buf_is_valid(bufnr) or api.nvim_get_current_buf() ~= bufnr or not in_insert_mode() then
    return
  end
  if vim.fn.pumvisible() == 1 then
    return -- the completion menu has the floor
  end
  local row, col = cursor()
  if api.nvim_buf_get_changedtick(bufnr) ~= request.tick or row ~= request.row or col ~= request.col then
    return -- the buffer or cursor moved on since the request was sent
  end
  local items = result and (result.items or result) or {}
  local item = items[1]
  if not item then
    return
  end
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  local suggestion = text.suggestion(line, row, col, item, client.offset_encoding)
  if suggestion then
    suggestion.command = type(item.command) == 'table' and item.command or nil
    show(bufnr, row, col, suggestion)
  end
end

--- Send textDocument/inlineCompletion for the cursor now (the previous one is cancelled).
--- `kind` is the LSP trigger kind: 1 invoked (a key), 2 automatic (typing).
function M.request(kind)
  local bufnr = api.nvim_get_current_buf()
  M.cancel()
  clear()
  if not in_insert_mode() or not config.enabled(bufnr) then
    return false
  end
  local client = config.get_client(bufnr)
  if not client then
    return false
  end
  local row, col = cursor()
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = row, character = text.byte_to_char(line, col, client.offset_encoding) },
    context = { triggerKind = kind or 2 },
  }
  local request = { client = client, bufnr = bufnr, row = row, col = col, tick = api.nvim_buf_get_changedtick(bufnr) }
  state.pending = request -- before sending: a handler may run at once
  local ok, id = compat.request(client, METHOD, params, function(err, result)
    on_response(err, result, request)
  end, bufnr)
  if not ok then
    if state.pending == request then
      state.pending = nil
    end
    return false
  end
  request.id = id
  M.stats.requests = M.stats.requests + 1
  return true
end

--- The cursor rests (CursorHold, CursorHoldI, BufEnter): ask the server to warm the
--- prompt a request here would need. Sent once per buffer state and cursor position
--- unless `force` (entering a buffer: the server's cache may hold another file by now).
function M.prefetch(bufnr, force)
  bufnr = bufnr or api.nvim_get_current_buf()
  if api.nvim_get_current_buf() ~= bufnr or not config.enabled(bufnr) then
    return false
  end
  local client = config.get_client(bufnr)
  if not client or not client.initialized then
    return false -- the server warms the file on didOpen itself
  end
  local row, col = cursor()
  local tick = api.nvim_buf_get_changedtick(bufnr)
  local last = state.prefetched
  if not force and last and last.bufnr == bufnr and last.tick == tick and last.row == row and last.col == col then
    return false
  end
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  compat.notify_server(client, PREFETCH_METHOD, {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = row, character = text.byte_to_char(line, col, client.offset_encoding) },
  })
  state.prefetched = { bufnr = bufnr, tick = tick, row = row, col = col }
  M.stats.prefetches = M.stats.prefetches + 1
  return true
end

--- Tell the server the whole suggestion was taken (the item's own command, e.g.
--- slm.acceptedCompletion), so it computes the next one before the next request.
local function run_accept_command(bufnr, command)
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
  M.stats.accept_commands = M.stats.accept_commands + 1
end

--- (Re)start the debounce timer; when it fires, request a suggestion.
function M.schedule()
  stop_timer()
  local bufnr = api.nvim_get_current_buf()
  if not config.enabled(bufnr) then
    return
  end
  local timer = compat.uv.new_timer()
  state.timer = timer
  timer:start(config.debounce_ms, 0, vim.schedule_wrap(function()
    if state.timer ~= timer then
      return
    end
    stop_timer()
    if api.nvim_get_current_buf() == bufnr then
      M.request(2)
    end
  end))
end

local function expected(bufnr)
  local expect = state.expect
  if not expect or expect.bufnr ~= bufnr then
    return false
  end
  local row, col = cursor()
  return expect.tick == api.nvim_buf_get_changedtick(bufnr) and expect.row == row and expect.col == col
end

-- Autocommand handlers (init.lua wires them per buffer).

function M.on_text_changed(bufnr)
  state.seen_tick = api.nvim_buf_get_changedtick(bufnr)
  if expected(bufnr) then
    return -- our own partial accept
  end
  state.expect = nil
  M.cancel() -- every keystroke cancels the request in flight
  clear()
  M.schedule()
end

function M.on_cursor_moved(bufnr)
  if expected(bufnr) then
    return
  end
  if api.nvim_buf_get_changedtick(bufnr) ~= state.seen_tick then
    return -- typing: TextChangedI follows and handles it
  end
  if M.visible() then
    return
  end
  -- The cursor moved away (arrows, mouse): the suggestion and the request are stale.
  stop_timer()
  M.cancel()
  clear()
end

function M.on_insert_enter(bufnr)
  state.seen_tick = api.nvim_buf_get_changedtick(bufnr)
end

function M.on_insert_leave()
  M.dismiss()
end

--- Accept the suggestion: `what` is 'all' (default), 'word' or 'line'. Returns whether
--- anything was inserted. A partial accept leaves the rest of the suggestion shown.
function M.accept(what)
  if not M.visible() then
    return false
  end
  local current = state.current
  local piece = current.text
  if what == 'word' then
    piece = text.next_word(current.text)
  elseif what == 'line' then
    piece = text.next_line(current.text)
  end
  local remaining = current.text:sub(#piece + 1)
  local bufnr, row, col = current.bufnr, current.row, current.col
  local end_col = col
  if remaining == '' and current.tail ~= '' then
    local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
    if line:sub(col + 1, col + #current.tail) == current.tail then
      end_col = col + #current.tail -- the item replaces text after the cursor
    end
  end
  stop_timer()
  M.cancel()
  clear()
  api.nvim_buf_set_text(bufnr, row, col, row, end_col, text.split_lines(piece))
  local new_row, new_col = text.end_position(row, col, piece)
  api.nvim_win_set_cursor(0, { new_row + 1, new_col })
  M.stats.accepted = M.stats.accepted + 1
  if remaining ~= '' then
    state.expect = { bufnr = bufnr, tick = api.nvim_buf_get_changedtick(bufnr), row = new_row, col = new_col }
    show(bufnr, new_row, new_col, { text = remaining, tail = current.tail, command = current.command })
  else
    state.expect = nil
    run_accept_command(bufnr, current.command)
  end
  return true
end

return M
