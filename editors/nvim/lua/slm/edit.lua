-- "Edit selection with an instruction": :SlmEdit on a range (or the code action), the
-- instruction from vim.ui.input, the server's proposal (slm.editSelection, nothing applied)
-- in a scratch buffer diffed against the file, `ga` to apply (slm.applyEdit: the server
-- applies it only if the file is unchanged), `q` to discard.

local compat = require('slm.compat')

local M = {}
local api = vim.api

M.EDIT_COMMAND = 'slm.editSelection'
M.APPLY_COMMAND = 'slm.applyEdit'

local function execute(client, command, argument, bufnr, callback)
  compat.request(client, 'workspace/executeCommand', { command = command, arguments = { argument } },
    function(err, result)
      if err then
        compat.notify('slm-lsp: ' .. (err.message or tostring(err)), vim.log.levels.WARN)
        return
      end
      callback(result)
    end, bufnr)
end

--- Close the proposal's window and buffer, and leave diff mode in the file's window.
local function close(state)
  if state.closed then
    return
  end
  state.closed = true
  if api.nvim_win_is_valid(state.source_win) then
    api.nvim_win_call(state.source_win, function()
      vim.cmd('diffoff')
    end)
  end
  if api.nvim_buf_is_valid(state.buf) then
    api.nvim_buf_delete(state.buf, { force = true })
  end
end

--- Show a proposal: the file's text with the edit applied, in a diff split. Returns the scratch buffer.
function M.show(client, bufnr, proposal)
  local source_win = vim.fn.bufwinid(bufnr)
  if source_win == -1 then
    source_win = api.nvim_get_current_win()
  end
  local buf = api.nvim_create_buf(false, true)
  api.nvim_buf_set_lines(buf, 0, -1, false, api.nvim_buf_get_lines(bufnr, 0, -1, false))
  vim.lsp.util.apply_text_edits({ { range = proposal.range, newText = proposal.newText } }, buf,
    client.offset_encoding or 'utf-16')
  vim.bo[buf].buftype = 'nofile'
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].filetype = vim.bo[bufnr].filetype
  pcall(api.nvim_buf_set_name, buf, 'slm://proposed/' .. vim.fn.fnamemodify(api.nvim_buf_get_name(bufnr), ':t'))
  vim.bo[buf].modifiable = false
  local proposal_win
  api.nvim_win_call(source_win, function()
    vim.cmd('diffthis')
    vim.cmd('rightbelow vsplit')
    proposal_win = api.nvim_get_current_win()
    api.nvim_win_set_buf(proposal_win, buf)
    vim.cmd('diffthis')
  end)
  api.nvim_set_current_win(proposal_win) -- so that ga / q work at once
  local state = { buf = buf, source_win = source_win }
  local function accept()
    close(state)
    execute(client, M.APPLY_COMMAND, { proposal = proposal }, bufnr, function(result)
      if result and result.applied then
        compat.notify('slm-lsp: edit applied')
      end
    end)
  end
  local opts = { buffer = buf, nowait = true, silent = true }
  vim.keymap.set('n', 'ga', accept, opts)
  vim.keymap.set('n', 'q', function() close(state) end, opts)
  vim.keymap.set('n', 'gr', function() close(state) end, opts)
  local note = proposal.parses == false and 'the rewrite does not parse! ' or ''
  compat.notify('slm-lsp: proposed edit — ' .. note .. 'ga: apply, q: discard',
    proposal.parses == false and vim.log.levels.WARN or vim.log.levels.INFO)
  return buf
end

--- Ask the server for a proposal for `argument` ({uri, range, version}) and show it.
function M.request(client, bufnr, argument, instruction)
  local function go(text)
    if text == nil or vim.trim(text) == '' then
      return
    end
    local with = vim.tbl_extend('force', argument, { instruction = vim.trim(text) })
    -- Clear the code action list and the input prompt first: a message after them would stop
    -- at "Press ENTER", and the proposal's split would wait behind it.
    vim.cmd('redraw')
    compat.notify('slm-lsp: editing…')
    execute(client, M.EDIT_COMMAND, with, bufnr, function(result)
      if type(result) == 'table' and result.id then
        M.show(client, bufnr, result)
      end -- else the server has said why (window/showMessage)
    end)
  end
  if instruction then
    go(instruction)
  else
    vim.ui.input({ prompt = 'slm edit: ' }, go)
  end
end

--- :SlmEdit — lines line1..line2 of bufnr (whole lines).
function M.edit_lines(client, bufnr, line1, line2, instruction)
  if not client then
    compat.notify('slm-lsp: the server is not running', vim.log.levels.WARN)
    return
  end
  local last = api.nvim_buf_get_lines(bufnr, line2 - 1, line2, false)[1] or ''
  local range = { start = { line = line1 - 1, character = 0 }, ['end'] = { line = line2 - 1, character = #last } }
  if line2 < api.nvim_buf_line_count(bufnr) then
    range['end'] = { line = line2, character = 0 }
  end
  local argument = { uri = vim.uri_from_bufnr(bufnr), range = range, version = vim.lsp.util.buf_versions[bufnr] }
  M.request(client, bufnr, argument, instruction)
end

--- The code action carries the command without the instruction: fill it in here.
function M.register()
  vim.lsp.commands[M.EDIT_COMMAND] = function(command, ctx)
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    if client and command.arguments and command.arguments[1] then
      M.request(client, ctx.bufnr, command.arguments[1])
    end
  end
end

return M
