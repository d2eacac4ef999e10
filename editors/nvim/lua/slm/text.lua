-- Pure text helpers: LSP positions <-> byte columns, turning an inline-completion item
-- into what to show after the cursor, and the word/line pieces that partial accepts
-- insert. No editor state here, so it is unit-tested on every Neovim version.

local M = {}

-- Byte length of the UTF-8 sequence that starts with byte `b`.
local function seq_len(b)
  if b < 0x80 then
    return 1
  elseif b >= 0xF0 then
    return 4
  elseif b >= 0xE0 then
    return 3
  elseif b >= 0xC0 then
    return 2
  end
  return 1 -- a stray continuation byte counts alone
end

-- Code units one UTF-8 sequence of `n` bytes takes in `encoding`.
local function units(n, encoding)
  if encoding == 'utf-8' then
    return n
  elseif encoding == 'utf-32' then
    return 1
  end
  return n == 4 and 2 or 1 -- utf-16: astral characters are surrogate pairs
end

--- LSP `character` (in `encoding` code units) -> 0-based byte column in `line`.
--- Positions past the end clamp to the end; one inside a character moves past it.
function M.char_to_byte(line, character, encoding)
  encoding = encoding or 'utf-16'
  if encoding == 'utf-8' then
    return math.min(character, #line)
  end
  local byte, count = 0, 0
  while byte < #line and count < character do
    local n = seq_len(line:byte(byte + 1))
    count = count + units(n, encoding)
    byte = byte + n
  end
  return math.min(byte, #line)
end

--- 0-based byte column in `line` -> LSP `character` in `encoding` code units.
function M.byte_to_char(line, byte, encoding)
  encoding = encoding or 'utf-16'
  byte = math.min(byte, #line)
  if encoding == 'utf-8' then
    return byte
  end
  local at, count = 0, 0
  while at < byte do
    local n = seq_len(line:byte(at + 1))
    count = count + units(n, encoding)
    at = at + n
  end
  return count
end

function M.split_lines(s)
  return vim.split(s, '\n', { plain = true })
end

--- The text of a snippet (LSP StringValue): placeholders keep their default text.
function M.snippet_text(value)
  local s = value:gsub('%${%d+:([^}]*)}', '%1'):gsub('%${%d+}', ''):gsub('%$%d+', '')
  s = s:gsub('\\([%$}\\])', '%1')
  return s
end

--- What an inline-completion item adds at the cursor.
---
--- `line` is the cursor's line, `row`/`col` the cursor (0-based row, byte column).
--- Returns nil when the item does not fit (its range starts after the cursor, spans
--- other lines, or its text does not continue what is typed), else a table:
---   text  what to show and insert at the cursor (may hold newlines)
---   tail  text after the cursor that the item replaces ('' for a plain insert)
function M.suggestion(line, row, col, item, encoding)
  if type(item) ~= 'table' then
    return nil
  end
  local insert = item.insertText
  if type(insert) == 'table' then
    if type(insert.value) ~= 'string' then
      return nil
    end
    insert = M.snippet_text(insert.value)
  end
  if type(insert) ~= 'string' then
    return nil
  end
  local start_col, end_col = col, col
  if type(item.range) == 'table' then
    local s, e = item.range.start, item.range['end']
    if s.line ~= row or e.line ~= row then
      return nil
    end
    start_col = M.char_to_byte(line, s.character, encoding)
    end_col = M.char_to_byte(line, e.character, encoding)
    if start_col > col or end_col < col then
      return nil
    end
  end
  local typed = line:sub(start_col + 1, col)
  if insert:sub(1, #typed) ~= typed then
    return nil
  end
  local text = insert:sub(#typed + 1)
  local tail = line:sub(col + 1, end_col)
  if text == '' and tail == '' then
    return nil
  end
  if text == tail then
    return nil -- the item would change nothing
  end
  return { text = text, tail = tail }
end

--- The next word of a suggestion, as VS Code's "accept next word" takes it: leading
--- blanks and one run of word characters (or of punctuation). At a line break: the
--- break and the next line's indentation.
function M.next_word(s)
  if s == '' then
    return ''
  end
  local indent = s:match('^\n[ \t]*')
  if indent then
    return indent
  end
  return s:match('^[ \t]*[%w_\128-\255]+')
    or s:match('^[ \t]*[^%w_%s\128-\255]+')
    or s:match('^[ \t]+')
    or s:sub(1, 1)
end

--- The rest of the current line of a suggestion; at a line break, the break and the
--- whole next line.
function M.next_line(s)
  if s:sub(1, 1) == '\n' then
    return '\n' .. (s:match('^\n([^\n]*)') or '')
  end
  return s:match('^[^\n]*')
end

--- Where the cursor ends after inserting `text` at (row, col).
function M.end_position(row, col, text)
  local lines = M.split_lines(text)
  if #lines == 1 then
    return row, col + #lines[1]
  end
  return row + #lines - 1, #lines[#lines]
end

return M
