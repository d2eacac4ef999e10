-- The few LSP-client calls whose form changed between Neovim 0.7 and 0.12.

local M = {}

M.has_011 = vim.fn.has('nvim-0.11') == 1
M.has_010 = vim.fn.has('nvim-0.10') == 1
M.has_08 = vim.fn.has('nvim-0.8') == 1
M.has_native_inline = vim.fn.has('nvim-0.12') == 1
  and type(vim.lsp.inline_completion) == 'table'
  and type(vim.lsp.inline_completion.enable) == 'function'

local uv = vim.uv or vim.loop
M.uv = uv

-- 0.11 made client methods take `self` (client:request); the dot form is deprecated.
function M.request(client, method, params, handler, bufnr)
  if M.has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

function M.notify_server(client, method, params)
  if M.has_011 then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

function M.cancel_request(client, id)
  if M.has_011 then
    return client:cancel_request(id)
  end
  return client.cancel_request(id)
end

function M.is_stopped(client)
  if M.has_011 then
    return client:is_stopped()
  end
  return client.is_stopped()
end

function M.stop(client, force)
  if M.has_011 then
    return client:stop(force)
  end
  return client.stop(force)
end

function M.get_client(id)
  if id == nil then
    return nil
  end
  local client = vim.lsp.get_client_by_id(id)
  if client == nil or M.is_stopped(client) then
    return nil
  end
  return client
end

function M.buf_is_attached(bufnr, client_id)
  return vim.lsp.buf_is_attached(bufnr, client_id)
end

function M.notify(message, level)
  vim.notify(message, level or vim.log.levels.INFO, { title = 'slm-lsp' })
end

return M
