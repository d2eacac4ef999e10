-- Unit checks of lua/slm/text.lua, run inside each Neovim under test by test_nvim.py.
-- Returns the list of failures (empty when all pass) and the number of checks.
local text = require('slm.text')
local failures, checks = {}, 0

local function eq(name, got, want)
  checks = checks + 1
  if not vim.deep_equal(got, want) then
    failures[#failures + 1] = string.format('%s: got %s, want %s', name, vim.inspect(got), vim.inspect(want))
  end
end

-- Positions: "a😀é b" is a(1) 😀(4 bytes, 2 UTF-16 units) é(2 bytes) space b.
local line = 'a😀é b'
eq('utf-16 to byte after emoji', text.char_to_byte(line, 3, 'utf-16'), 5)
eq('utf-16 to byte after é', text.char_to_byte(line, 4, 'utf-16'), 7)
eq('utf-16 inside a surrogate pair moves past it', text.char_to_byte(line, 2, 'utf-16'), 5)
eq('utf-32 to byte', text.char_to_byte(line, 2, 'utf-32'), 5)
eq('utf-8 to byte', text.char_to_byte(line, 5, 'utf-8'), 5)
eq('past the end clamps', text.char_to_byte(line, 99, 'utf-16'), #line)
eq('byte to utf-16', text.byte_to_char(line, 7, 'utf-16'), 4)
eq('byte to utf-32', text.byte_to_char(line, 7, 'utf-32'), 3)
eq('byte to utf-8', text.byte_to_char(line, 7, 'utf-8'), 7)
eq('end of line to utf-16', text.byte_to_char(line, #line, 'utf-16'), 6)
for byte = 0, #line do
  -- round trip at every character boundary
  local ok = byte == 0 or byte == 1 or byte == 5 or byte == 7 or byte == 8 or byte == 9
  if ok then
    eq('round trip ' .. byte, text.char_to_byte(line, text.byte_to_char(line, byte, 'utf-16'), 'utf-16'), byte)
  end
end

-- Suggestions from items.
local function item(insert, sl, sc, el, ec)
  return { insertText = insert, range = sl and { start = { line = sl, character = sc }, ['end'] = { line = el, character = ec } } or nil }
end
eq('plain insert at the cursor', text.suggestion('    return', 1, 10, item(' a + b', 1, 10, 1, 10), 'utf-16'), { text = ' a + b', tail = '' })
eq('no range means the cursor', text.suggestion('    return', 1, 10, item(' a + b'), 'utf-16'), { text = ' a + b', tail = '' })
eq('range from the word start skips what is typed',
  text.suggestion('    ret', 1, 7, item('return a + b', 1, 4, 1, 7), 'utf-16'), { text = 'urn a + b', tail = '' })
eq('text that does not continue the typed word is refused',
  text.suggestion('    ret', 1, 7, item('yield a', 1, 4, 1, 7), 'utf-16'), nil)
eq('a range past the cursor replaces the tail',
  text.suggestion('print()', 0, 6, item('x, y)', 0, 6, 0, 7), 'utf-16'), { text = 'x, y)', tail = ')' })
eq('a range on another line is refused', text.suggestion('x', 0, 1, item('y', 1, 0, 1, 0), 'utf-16'), nil)
eq('a range starting after the cursor is refused', text.suggestion('abc', 0, 1, item('y', 0, 2, 0, 2), 'utf-16'), nil)
eq('empty text is nothing', text.suggestion('abc', 0, 3, item('', 0, 3, 0, 3), 'utf-16'), nil)
eq('a replacement equal to the tail is nothing', text.suggestion('f()', 0, 2, item(')', 0, 2, 0, 3), 'utf-16'), nil)
eq('utf-16 range after an emoji',
  text.suggestion('s = "😀"', 0, #'s = "😀"', item('  # smile', 0, 8, 0, 8), 'utf-16'), { text = '  # smile', tail = '' })
eq('snippet items keep placeholder text',
  text.suggestion('f(', 0, 2, { insertText = { kind = 'snippet', value = '${1:x}, ${2:y})$0' } }, 'utf-16'), { text = 'x, y)', tail = '' })
eq('an item without text is refused', text.suggestion('x', 0, 1, { range = nil }, 'utf-16'), nil)

-- Words and lines.
eq('word with leading space', text.next_word(' a + b'), ' a')
eq('punctuation run', text.next_word(' + b'), ' +')
eq('identifier with underscore and digits', text.next_word('foo_bar2(x)'), 'foo_bar2')
eq('non-ASCII letters stay whole', text.next_word('héllo wörld'), 'héllo')
eq('line break takes the indentation', text.next_word('\n    return x'), '\n    ')
eq('blanks only', text.next_word('   '), '   ')
eq('line up to the break', text.next_line('a + b\n    c'), 'a + b')
eq('at a break, the next line', text.next_line('\n    if x:\n        y'), '\n    if x:')
eq('end after one line', { text.end_position(3, 4, 'abc') }, { 3, 7 })
eq('end after lines', { text.end_position(3, 4, 'ab\ncd\nxyz') }, { 5, 3 })

return { failures = failures, checks = checks }
