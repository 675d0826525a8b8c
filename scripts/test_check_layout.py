#!/usr/bin/env python3
"""Tests of scripts/check-layout.py on small synthetic crates (stdlib only).

Run: python3 scripts/test_check_layout.py
"""

import importlib.util
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "check-layout.py"
spec = importlib.util.spec_from_file_location("check_layout", SCRIPT)
cl = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cl)

FLAT = 'layers = [["a", "b", "c", "low"], ["high"], ["lib", "main"]]\n'


class Fixture(unittest.TestCase):
    def run_on(self, files, config=FLAT, *args):
        """Writes `files` (path -> text) under a temp crate and runs the script on it."""
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            for rel, text in {"scripts/layers.toml": config, **files}.items():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text(textwrap.dedent(text))
            p = subprocess.run([sys.executable, str(SCRIPT), "--root", tmp, *args],
                               capture_output=True, text=True)
            return p.returncode, p.stdout, p.stderr

    def edges(self, files):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            for rel, text in files.items():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text(textwrap.dedent(text))
            crate = cl.Crate(root)
            return {e: [line for _, line in uses] for e, uses in crate.edges.items()}


class Graph(Fixture):
    def test_cycle_is_reported_with_its_path(self):
        rc, out, _ = self.run_on({
            "src/lib.rs": "pub mod a;\npub mod b;\npub mod c;\n",
            "src/a.rs": "use crate::b::B;\n",
            "src/b.rs": "pub fn f() { crate::c::g() }\n",
            "src/c.rs": "\n\nuse crate::a;\n",
        })
        self.assertEqual(rc, 1)
        self.assertIn("src/a.rs:1: import cycle: a -> b -> c -> a", out)
        self.assertEqual(out.count("import cycle"), 1)

    def test_upward_edge_is_reported_at_its_line(self):
        rc, out, _ = self.run_on({
            "src/lib.rs": "pub mod a;\npub mod low;\npub mod high;\n",
            "src/low.rs": "fn f() {\n    crate::high::run();\n}\n",
            "src/high.rs": "use crate::a;\n",
            "src/a.rs": "",
        })
        self.assertEqual(rc, 1)
        self.assertIn("src/low.rs:2: low (layer 1) uses high (layer 2)", out)
        self.assertEqual(len(out.splitlines()), 1, out)

    def test_grouped_use_and_longest_prefix(self):
        edges = self.edges({
            "src/lib.rs": "",
            "src/a.rs": """\
                use crate::{
                    b::{self, B},
                    publish::{dir::Dir, target::Target as T},
                    Error,
                };
                """,
            "src/b.rs": "",
            "src/publish/mod.rs": "",
            "src/publish/dir.rs": "",
        })
        self.assertEqual(edges, {("a", "b"): [2, 2], ("a", "publish::dir"): [3],
                                 ("a", "publish"): [3], ("a", "lib"): [4]})

    def test_super_self_and_child_paths(self):
        edges = self.edges({
            "src/lib.rs": "mod a;\nmod publish;\nfn f() { publish::run() }\n",
            "src/a.rs": "",
            "src/publish/mod.rs": "mod dir;\nuse self::dir::Dir;\nfn g() { dir::h() }\n",
            "src/publish/dir.rs": "use super::Target;\nfn f() { super::super::a::x() }\n",
        })
        self.assertEqual(edges, {("lib", "publish"): [3], ("publish", "publish::dir"): [2, 3],
                                 ("publish::dir", "publish"): [1], ("publish::dir", "a"): [2]})

    def test_strings_comments_tests_and_dollar_crate_are_ignored(self):
        edges = self.edges({
            "src/lib.rs": """\
                //! Uses crate::b::x in a doc comment.
                /* crate::b::y /* nested */ crate::b::z */
                #[macro_export]
                macro_rules! say { () => { $crate::b::say() } }
                fn f() -> &'static str {
                    let c = '"'; // crate::b::w
                    let s = "crate::b::x \\" crate::b::y";
                    let r = r#"crate::b::z "# ;
                    "crate::b"
                }
                #[cfg(test)]
                mod tests {
                    use crate::b::B;
                }
                """,
            "src/b.rs": "",
        })
        self.assertEqual(edges, {})

    def test_macro_edge_goes_to_the_defining_module(self):
        edges = self.edges({
            "src/lib.rs": "pub mod report;\npub mod a;\n",
            "src/report.rs": "#[macro_export]\nmacro_rules! outln { () => {} }\n",
            "src/a.rs": "fn f() {\n    crate::outln!();\n    crate::other!();\n}\n",
        })
        self.assertEqual(edges, {("a", "report"): [2], ("a", "lib"): [3]})

    def test_child_to_parent_is_allowed_unless_the_config_says_no(self):
        files = {
            "src/lib.rs": "mod publish;\n",
            "src/publish/mod.rs": "mod dir;\nuse self::dir::Dir;\n",
            "src/publish/dir.rs": "use super::Target;\n",
        }
        config = 'layers = [["publish"], ["lib"]]\n'
        rc, out, _ = self.run_on(files, config)
        self.assertEqual(rc, 0, out)
        rc, out, _ = self.run_on(files, config + "allow_child_to_parent = false\n")
        self.assertEqual(rc, 1)
        self.assertIn("import cycle: publish -> publish::dir -> publish", out)

    def test_root_is_not_a_parent(self):
        rc, out, _ = self.run_on({
            "src/lib.rs": "mod a;\nfn f() { a::g() }\n",
            "src/a.rs": "fn g() { crate::h() }\n",
        }, 'layers = [["lib", "a"]]\n')
        self.assertEqual(rc, 1)
        self.assertIn("src/a.rs:1: import cycle: a -> lib -> a", out)


class Layers(Fixture):
    def test_missing_module_fails_and_unknown_name_warns(self):
        rc, out, err = self.run_on({"src/lib.rs": "", "src/stray.rs": "", "src/low.rs": ""},
                                   'layers = [["low", "ghost"], ["lib"]]\n')
        self.assertEqual(rc, 1)
        self.assertEqual(out.strip(), "src/stray.rs:1: module stray is in no layer; "
                                      "add it to scripts/layers.toml")
        self.assertIn("warning: layer name 'ghost' matches no module", err)

    def test_prefix_name_covers_submodules(self):
        rc, out, _ = self.run_on({
            "src/lib.rs": "",
            "src/low.rs": "use crate::publish::dir::Dir;\n",
            "src/publish/mod.rs": "",
            "src/publish/dir.rs": "",
        }, 'layers = [["low"], ["publish"], ["lib"]]\n')
        self.assertEqual(rc, 1)
        self.assertIn("src/low.rs:1: low (layer 1) uses publish::dir (layer 2)", out)

    def test_bad_config_exits_2(self):
        rc, _, err = self.run_on({"src/lib.rs": ""}, 'layers = [["lib"], ["lib"]]\n')
        self.assertEqual(rc, 2)
        self.assertIn("'lib' is in layer 1 and 2", err)

    def test_success_summary_and_graph(self):
        rc, out, _ = self.run_on({
            "src/lib.rs": "pub mod low;\n",
            "src/low.rs": "pub fn f() {\n    1;\n}\n",
            "src/main.rs": "fn main() {}\n",
        }, 'layers = [["low"], ["lib", "main"]]\n', "--graph")
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.splitlines(), [
            "layout ok: 3 modules, 0 edges, no cycles; largest file src/low.rs (3 lines); "
            "longest fn low::f (3 lines)"])
        rc, out, _ = self.run_on({"src/lib.rs": "pub mod low;\nuse crate::low::f;\n",
                                  "src/low.rs": ""}, 'layers = [["low"], ["lib"]]\n', "--graph")
        self.assertEqual(out.splitlines()[0], "lib -> low  (src/lib.rs:2, 1 use(s))")


class Sizes(Fixture):
    def fn_lengths(self, text):
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "src").mkdir()
            (Path(tmp) / "src/lib.rs").write_text(textwrap.dedent(text))
            f = cl.SrcFile(Path(tmp), Path(tmp) / "src/lib.rs")
            return {name: end - start + 1 for name, start, end in cl.functions(f)}

    def test_char_literals_lifetimes_raw_strings_and_comments(self):
        lengths = self.fn_lengths("""\
            fn chars<'a>(s: &'a str) -> &'a str {
                let open = '{';
                let close = b'}';
                let esc = '\\'';
                let label = 'outer: loop { break 'outer; };
                s
            }
            const fn raw() -> &'static str {
                r#"{ "}" {"#
            }
            pub(crate) unsafe fn commented() {
                // }
                /* } */
                let s = "}\\"}";
            }
            async fn outer() {
                fn inner() -> [u8; 2] {
                    [0; 2]
                }
            }
            trait T {
                fn decl(&self);
                fn with_default(&self) -> u8 { 1 }
            }
            """)
        self.assertEqual(lengths, {"chars": 7, "raw": 3, "commented": 5, "outer": 5,
                                   "inner": 3, "with_default": 1})

    def test_limits_and_test_modules(self):
        body = "".join("    x();\n" for _ in range(98))
        ok_fn, long_fn = f"fn ok() {{\n{body}}}\n", f"fn long() {{\n{body}    y();\n}}\n"
        tests = "#[cfg(test)]\nmod tests {\n" + long_fn * 10 + "}\n"
        rc, out, _ = self.run_on({"src/lib.rs": ok_fn + "\n" * 500 + tests},
                                 'layers = [["lib"]]\n')
        self.assertEqual(rc, 0, out)  # 600 lines before the tests, fn of 100 lines
        self.assertIn("largest file src/lib.rs (600 lines); longest fn lib::ok (100 lines)", out)
        rc, out, _ = self.run_on({"src/lib.rs": "\n" + long_fn + "\n" * 499},
                                 'layers = [["lib"]]\n')
        self.assertEqual(rc, 1)
        self.assertEqual(out.splitlines(), [
            "src/lib.rs:1: file has 601 lines before its unit tests (limit 600)",
            "src/lib.rs:2: fn lib::long is 101 lines (limit 100)"])


if __name__ == "__main__":
    unittest.main()
