"""Which definitions land in the prompt, language by language, on small multi-file projects."""

from __future__ import annotations

from collections.abc import Callable

from tests.context.conftest import Workspace

Make = Callable[..., Workspace]


def test_python_absolute_relative_reexport_and_module_imports(workspace: Make) -> None:
    ws = workspace({
        "pkg/__init__.py": "from .core import Engine\n",
        "pkg/core.py": (
            "class Engine:\n"
            "    \"\"\"Runs jobs.\"\"\"\n\n"
            "    def __init__(self, speed: int) -> None:\n"
            "        self.speed = speed\n\n"
            "    def run_fast(self, n: int) -> int:\n"
            "        return n * self.speed\n"
        ),
        "pkg/util.py": "def frobnicate(a, b):\n    return a - b\n\n\ndef _hidden_helper():\n    return 0\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/deep.py": "from ..util import frobnicate as frob\n\n\ndef deep_thing():\n    return frob(1, 2)\n",
        "other/unrelated.py": "def unrelated_function():\n    return 42\n",
    })
    result = ws.assemble("app/main.py", (
        "from pkg import Engine\n"
        "from pkg import util\n"
        "from pkg.sub.deep import deep_thing\n\n"
        "def go():\n"
        "    e = Engine(3)\n"
        "    x = deep_thing()\n"
        "    return util.<|>\n"
    ), language="python")
    extras = ws.extras_text(result)
    assert "class Engine:" in extras and "def run_fast" in extras  # through pkg/__init__.py
    assert "@@ pkg/core.py" in extras
    assert "def frobnicate(a, b):" in extras  # member of the module imported as ``util``
    assert "def deep_thing():" in extras
    assert "unrelated_function" not in extras
    assert "_hidden_helper" not in extras  # private names of a module import stay out

    relative = ws.assemble("pkg/sub/deep.py", (
        "from ..util import frobnicate as frob\n\n\ndef deep_thing():\n    return frob(<|>\n"
    ), language="python")
    assert "def frobnicate(a, b):" in ws.extras_text(relative)


def test_javascript_typescript_index_files_extensions_and_require(workspace: Make) -> None:
    ws = workspace({
        "src/lib/math.ts": (
            "export function addNumbers(a: number, b: number): number {\n  return a + b;\n}\n"
            "export const PI_VALUE = 3.14;\n"
        ),
        "src/lib/names.js": "export function formatName(first, last) {\n  return `${first} ${last}`;\n}\n",
        "src/lib/index.ts": "export * from './math';\nexport { formatName } from './names';\n",
        "src/models/user.ts": (
            "export interface User {\n  id: number;\n  name: string;\n}\n\n"
            "export default class UserStore {\n  all(): User[] {\n    return [];\n  }\n}\n"
        ),
        "src/legacy.js": "function oldThing(x) {\n  return x * 2;\n}\nmodule.exports = { oldThing };\n",
        "src/unused.ts": "export function neverImported(): void {}\n",
    })
    result = ws.assemble("src/app.ts", (
        "import { addNumbers, formatName } from './lib';\n"
        "import UserStore from './models/user.js';\n"
        "import type { User } from './models/user';\n"
        "const legacy = require('./legacy');\n\n"
        "export function main(u: User) {\n"
        "  const store = new UserStore();\n"
        "  const n = addNumbers(1, 2);\n"
        "  const s = formatName('a', 'b');\n"
        "  return legacy.<|>\n"
        "}\n"
    ), language="typescript")
    extras = ws.extras_text(result)
    assert "export function addNumbers(a: number, b: number): number" in extras  # index.ts: export *
    assert "@@ src/lib/math.ts" in extras
    assert "export function formatName(first, last)" in extras  # index.ts: export { } from
    assert "export default class UserStore" in extras  # default import, ./user.js -> user.ts
    assert "export interface User" in extras
    assert "function oldThing(x)" in extras  # require() bound to ``legacy``
    assert "neverImported" not in extras


def test_go_packages_via_go_mod_and_same_package_files(workspace: Make) -> None:
    ws = workspace({
        "go.mod": "module example.com/shop\n\ngo 1.22\n",
        "models/item.go": (
            "package models\n\n"
            "// Item is something for sale.\n"
            "type Item struct {\n\tName  string\n\tCents int\n}\n\n"
            "// NewItem makes an item.\n"
            "func NewItem(name string) *Item {\n\treturn &Item{Name: name}\n}\n\n"
            "func (i *Item) Price() int {\n\treturn i.Cents\n}\n\n"
            "func internalOnly() int {\n\treturn 1\n}\n"
        ),
        "store/store.go": (
            "package store\n\nimport \"example.com/shop/models\"\n\n"
            "func Save(it *models.Item) error {\n\treturn nil\n}\n"
        ),
        "store/cache.go": "package store\n\nfunc cacheKey(id string) string {\n\treturn \"k:\" + id\n}\n",
    })
    result = ws.assemble("cmd/main.go", (
        "package main\n\n"
        "import (\n\t\"fmt\"\n\tm \"example.com/shop/models\"\n\t\"example.com/shop/store\"\n)\n\n"
        "func main() {\n\tit := m.NewItem(\"x\")\n\tfmt.Println(it.Price())\n\tstore.<|>\n}\n"
    ), language="go")
    extras = ws.extras_text(result)
    assert "func NewItem(name string) *Item" in extras and "// NewItem makes an item." in extras
    assert "type Item struct" in extras
    assert "func (i *Item) Price() int" in extras  # methods follow their type
    assert "func Save(it *models.Item) error" in extras
    assert "internalOnly" not in extras  # unexported

    sibling = ws.assemble("store/store.go", (
        "package store\n\nimport \"example.com/shop/models\"\n\n"
        "func Save(it *models.Item) error {\n\tk := cacheKey(<|>\n\treturn nil\n}\n"
    ), language="go")
    assert "func cacheKey(id string) string" in ws.extras_text(sibling)


def test_rust_crate_paths_mod_declarations_and_module_imports(workspace: Make) -> None:
    ws = workspace({
        "Cargo.toml": "[package]\nname = \"shop\"\nversion = \"0.1.0\"\n",
        "src/lib.rs": "pub mod models;\nmod util;\nmod orders;\n",
        "src/models.rs": (
            "/// Something for sale.\n"
            "pub struct Item {\n    pub cents: u32,\n}\n\n"
            "impl Item {\n    pub fn new(cents: u32) -> Self {\n        Item { cents }\n    }\n\n"
            "    pub fn price(&self) -> u32 {\n        self.cents\n    }\n}\n\n"
            "pub fn make_default() -> Item {\n    Item::new(0)\n}\n"
        ),
        "src/util.rs": "pub fn clamp_value(x: i32) -> i32 {\n    x.max(0)\n}\n",
        "src/unrelated.rs": "pub fn not_used_anywhere() {}\n",
    })
    result = ws.assemble("src/orders.rs", (
        "use crate::models::{Item, make_default};\n"
        "use crate::util;\n\n"
        "pub fn total(items: &[Item]) -> u32 {\n"
        "    let d = make_default();\n"
        "    util::<|>\n"
        "}\n"
    ), language="rust")
    extras = ws.extras_text(result)
    assert "pub struct Item {" in extras and "/// Something for sale." in extras
    assert "pub fn price(&self) -> u32" in extras  # the impl follows the struct
    assert "pub fn make_default() -> Item" in extras
    assert "pub fn clamp_value(x: i32) -> i32" in extras  # ``use crate::util`` then ``util::``
    assert "not_used_anywhere" not in extras

    declared = ws.assemble("src/lib.rs", (
        "pub mod models;\nmod util;\nmod orders;\n\nfn f() { util::clamp_value(<|>) }\n"
    ), language="rust")
    assert "pub fn clamp_value" in ws.extras_text(declared)  # ``mod util;`` -> src/util.rs


def test_java_imports_static_imports_and_same_package(workspace: Make) -> None:
    base = "src/main/java/com/shop/"
    ws = workspace({
        base + "model/Item.java": (
            "package com.shop.model;\n\n"
            "public class Item {\n    private final int cents;\n\n"
            "    public Item(int cents) {\n        this.cents = cents;\n    }\n\n"
            "    public int price() {\n        return cents;\n    }\n}\n"
        ),
        base + "util/Strings.java": (
            "package com.shop.util;\n\npublic final class Strings {\n"
            "    public static String join(String a, String b) {\n        return a + b;\n    }\n}\n"
        ),
        base + "app/Helper.java": (
            "package com.shop.app;\n\nclass Helper {\n    static int twice(int x) {\n        return 2 * x;\n    }\n}\n"
        ),
        base + "other/Unrelated.java": "package com.shop.other;\n\npublic class Unrelated {}\n",
    })
    result = ws.assemble(base + "app/Main.java", (
        "package com.shop.app;\n\n"
        "import com.shop.model.Item;\n"
        "import static com.shop.util.Strings.join;\n\n"
        "class Main {\n    void run() {\n        Item it = new Item(3);\n"
        "        int y = Helper.twice(it.price());\n        String s = join(<|>\n    }\n}\n"
    ), language="java")
    extras = ws.extras_text(result)
    assert "public class Item {" in extras and "public int price()" in extras
    assert "public static String join(String a, String b)" in extras
    assert "static int twice(int x)" in extras  # same package, used near the cursor
    assert "Unrelated" not in extras


def test_c_quoted_includes_resolve_through_include_dirs(workspace: Make) -> None:
    ws = workspace({
        "include/geometry.h": (
            "#ifndef GEOMETRY_H\n#define GEOMETRY_H\n\n"
            "typedef struct {\n    double x;\n    double y;\n} point_t;\n\n"
            "/* Euclidean distance. */\n"
            "double point_distance(point_t a, point_t b);\n\n"
            "#define GEOM_EPSILON 1e-9\n\n#endif\n"
        ),
        "src/geometry.c": "#include \"geometry.h\"\n\ndouble point_distance(point_t a, point_t b) { return 0; }\n",
        "src/other.h": "int other_function(void);\n",
    })
    result = ws.assemble("src/main.c", (
        "#include <stdio.h>\n#include \"geometry.h\"\n\n"
        "int main(void) {\n    point_t a = {0};\n    double d = point_distance(<|>\n}\n"
    ), language="c")
    extras = ws.extras_text(result)
    assert "double point_distance(point_t a, point_t b);" in extras
    assert "} point_t;" in extras
    assert "@@ include/geometry.h" in extras
    assert "other_function" not in extras


def test_cpp_relative_include_and_namespaced_class(workspace: Make) -> None:
    ws = workspace({
        "lib/shapes.hpp": (
            "#pragma once\nnamespace geo {\nclass Circle {\n public:\n  explicit Circle(double r);\n"
            "  double area() const;\n private:\n  double r_;\n};\n}  // namespace geo\n"
        ),
    })
    result = ws.assemble("app/main.cpp", (
        "#include \"../lib/shapes.hpp\"\n\nint main() {\n  geo::Circle c(2.0);\n  return c.<|>\n}\n"
    ), language="cpp")
    extras = ws.extras_text(result)
    assert "class Circle {" in extras and "double area() const;" in extras


def test_definitions_are_ranked_by_use_near_the_cursor(workspace: Make) -> None:
    ws = workspace({
        "lib.py": "".join(f"def function_{i}(x):\n    return x + {i}\n\n\n" for i in range(30)),
    })
    result = ws.assemble("main.py", (
        "from lib import *\n\n" + "".join(f"a{i} = function_{i}(1)\n" for i in range(0, 30, 3))
        + "\n\n\n\n\n\n\n\n\n\n\nvalue = function_27(function_24(<|>\n"
    ), language="python", budget=200)
    extras = ws.extras_text(result)
    assert "def function_27(x):" in extras and "def function_24(x):" in extras
    assert extras.index("def function_24") < extras.index("def function_27")  # source order within a file
    assert "def function_1(x)" not in extras  # the budget went to what is used near the cursor


def test_typescript_path_aliases_and_workspace_packages(workspace: Make) -> None:
    decoy = ("export function Button() {}\nexport function formatPrice() {}\n"
             "export function toCents() {}\n")  # same names elsewhere: only resolution can pick the right file
    ws = workspace({
        "apps/web/tsconfig.json": (
            "{\n  // comments and trailing commas are allowed here\n  \"compilerOptions\": {\n"
            "    \"baseUrl\": \"./src\",\n    \"paths\": { \"@/*\": [\"*\"], },\n  },\n}\n"
        ),
        "apps/web/src/components/button.tsx": "export function Button(props: { label: string }) {\n  return null;\n}\n",
        "apps/web/src/lib/format.ts": "export function formatPrice(cents: number): string {\n  return '';\n}\n",
        "packages/money/package.json": "{\"name\": \"@acme/money\", \"main\": \"src/index.ts\"}\n",
        "packages/money/src/index.ts": "export function toCents(amount: number): number {\n  return amount * 100;\n}\n",
        "apps/other/a.ts": decoy, "apps/other/b.ts": decoy, "apps/other/c.ts": decoy,
    })
    result = ws.assemble("apps/web/src/app.tsx", (
        "import { Button } from '@/components/button';\n"
        "import { formatPrice } from 'lib/format';\n"
        "import { toCents } from '@acme/money';\n\n"
        "export const label = formatPrice(toCents(<|>));\n"
    ), language="typescriptreact")
    extras = ws.extras_text(result)
    assert "@@ apps/web/src/components/button.tsx\nexport function Button(props" in extras  # "@/*" alias
    assert "@@ apps/web/src/lib/format.ts\nexport function formatPrice(cents" in extras  # baseUrl-relative
    assert "@@ packages/money/src/index.ts\nexport function toCents(amount" in extras  # package name + main
    assert "apps/other" not in extras
