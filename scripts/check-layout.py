#!/usr/bin/env python3
"""Checks the architecture bounds of the crate in src/ (Python 3.11+, standard library only).

Usage: python3 scripts/check-layout.py [--graph] [--root DIR] [--config FILE]

Every violation is one line `path:line: message` on standard output and makes the exit
status 1; warnings go to standard error and do not fail. Exit 2: bad config or usage.
On success a one-line summary is printed.

What is read: every src/**/*.rs, up to its first `#[cfg(test)]` at column 0 (this crate's
convention: the unit tests come last), with comments, string literals (also raw strings)
and char literals blanked out. The module of a file is its path: src/foo.rs -> foo,
src/publish/mod.rs -> publish, src/publish/dir.rs -> publish::dir; lib.rs and main.rs are
the crate roots `lib` and `main`.

Edges: every `crate::a::b` path (use lines, grouped `use crate::{a, b::{c}}` trees, inline
paths like `crate::fs::write(..)`), every `super::` / `self::` path (resolved from the
file's module) and every path that starts with a child module's name (`dir::Dir` in
publish/mod.rs, `daemon::run()` in lib.rs) goes to the longest prefix of the path that is a
module: `crate::publish::dir::Dir` -> publish::dir, `crate::publish::target` -> publish,
`crate::Error` -> the root. `crate::NAME!` goes to the module that defines
`macro_rules! NAME`. Not edges: `mod x;` declarations, `$crate::` in macro bodies, extern
crates (`std::`, `kkr::` in main.rs). A cycle or layer violation is reported once per pair
of modules, at the first use.

Rules:
 1. No import cycles. An edge from a module to its own parent (publish::dir -> publish) is
    left out of the cycle search when `allow_child_to_parent` is true (the default); the
    crate root does not count as a parent here. A cycle is printed as a path; every edge
    that lies on a cycle shows up in one printed cycle (its shortest way back).
 2. Layers: scripts/layers.toml lists layers from lowest to highest; a module may use its
    own layer and lower ones (child -> parent edges included). A name covers itself and
    its submodules (`publish` covers publish::dir); the longest matching name wins. A
    module in no layer is a violation; a name that matches no module is a warning.
 3. No file has more than `max_file_lines` (600) lines before its unit tests.
 4. No `fn` with a body (free, method, nested, in trait defaults) is longer than
    `max_fn_lines` (100), counted from the line of `fn name` to the line of its closing
    brace, both included. Declarations without a body (`fn x(&self);`) are skipped.

Config keys: layers (required), allow_child_to_parent, max_file_lines, max_fn_lines.
"""

import argparse
import bisect
import re
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python < 3.11
    print("check-layout: needs Python 3.11 or newer (tomllib)", file=sys.stderr)
    sys.exit(2)

IDENT = re.compile(r"[A-Za-z0-9_]")
RAW_STR = re.compile(r'r(#*)"')
USE_STMT = re.compile(r"\buse\s+([^;]*);")
USE_TOKEN = re.compile(r"::|[A-Za-z_][A-Za-z0-9_]*|[{},*]")
INLINE_PATH = re.compile(r"(?<![\w$:])([A-Za-z_]\w*)((?:\s*::\s*[A-Za-z_]\w*)+)(\s*!(?!=))?")
MACRO_DEF = re.compile(r"\bmacro_rules!\s*([A-Za-z_]\w*)")
FN_DEF = re.compile(r"\bfn\s+(?:r#)?([A-Za-z_]\w*)")


def blank(s):
    return "".join(c if c == "\n" else " " for c in s)


def strip_code(text):
    """Blanks out comments and string/char literals; keeps newlines, so lines stay put.

    `'x'`, `'\\n'`, `'{'` are char literals; `'a` (no closing quote after one char) is a
    lifetime or label and stays. Raw strings `r"…"`, `r#"…"#` (also b/c-prefixed) too.
    """
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        prev = text[i - 1] if i else " "
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
        elif c == "r" and RAW_STR.match(text, i) and (
            not IDENT.match(prev)
            or (prev in "bc" and (i < 2 or not IDENT.match(text[i - 2])))
        ):
            m = RAW_STR.match(text, i)
            end = text.find('"' + m.group(1), m.end())
            j = n if end < 0 else end + 1 + len(m.group(1))
        elif c == "'" and text[i + 1 : i + 2] == "\\":
            end = text.find("'", i + 3)
            j = n if end < 0 else end + 1
        elif c == "'" and text[i + 2 : i + 3] == "'" and text[i + 1] != "\n":
            j = i + 3
        else:
            out.append(c)
            i += 1
            continue
        out.append(blank(text[i:j]))
        i = j
    return "".join(out)


class SrcFile:
    def __init__(self, root, path):
        self.rel = path.relative_to(root).as_posix()
        parts = list(path.relative_to(root / "src").with_suffix("").parts)
        if parts[-1] == "mod":
            parts.pop()
        self.segs = [] if parts in (["lib"], ["main"]) else parts
        self.name = "::".join(parts)
        lines = path.read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        cut = next((k for k, l in enumerate(lines) if l.startswith("#[cfg(test)]")), len(lines))
        self.body_lines = cut
        self.code = strip_code("\n".join(lines[:cut]))
        self.starts = [0] + [m.end() for m in re.finditer("\n", self.code)]

    def line(self, offset):
        return bisect.bisect_right(self.starts, offset)


def parse_use_tree(toks, i, prefix):
    """Expands a use tree from toks[i] into full paths: [(segments, offset), …], next i."""
    path = list(prefix)
    while True:
        tok, off = toks[i]
        if tok == "{":
            i, paths = i + 1, []
            while toks[i][0] != "}":
                sub, i = parse_use_tree(toks, i, path)
                paths += sub
                if toks[i][0] == ",":
                    i += 1
            return paths, i + 1
        if tok == "*":
            return [(path, off)], i + 1
        path.append(tok)
        i += 1
        if i < len(toks) and toks[i][0] == "::":
            i += 1
            continue
        if i < len(toks) and toks[i][0] == "as":
            i += 2
        return [(path, off)], i


def paths_in(f):
    """(segments, offset, is_macro) of every `a::b` path in a file's code."""
    code = f.code
    for m in USE_STMT.finditer(f.code):
        body, base = m.group(1), m.start(1)
        toks = [(t.group(), base + t.start()) for t in USE_TOKEN.finditer(body)]
        toks = toks[1:] if toks and toks[0][0] == "::" else toks
        try:
            paths, _ = parse_use_tree(toks, 0, [])
        except IndexError:  # malformed: keep what the inline scan finds
            continue
        for segs, off in paths:
            yield segs, off, False
        code = code[: m.start()] + blank(m.group()) + code[m.end() :]
    for m in INLINE_PATH.finditer(code):
        segs = [m.group(1)] + re.findall(r"[A-Za-z_]\w*", m.group(2))
        yield segs, m.start(), bool(m.group(3))


class Crate:
    def __init__(self, root):
        self.files = [SrcFile(root, p) for p in sorted((root / "src").rglob("*.rs"))]
        self.modules = {f.name: f for f in self.files}
        self.root = "lib" if "lib" in self.modules else "main"
        self.macros = {}
        for f in self.files:
            for m in MACRO_DEF.finditer(f.code):
                self.macros.setdefault(m.group(1), f.name)
        self.edges = {}  # (from, to) -> [(path, line), …]
        for f in self.files:
            for segs, off, is_macro in paths_in(f):
                to = self.resolve(f, segs, is_macro)
                if to is not None and to != f.name:
                    self.edges.setdefault((f.name, to), []).append((f.rel, f.line(off)))

    def resolve(self, f, segs, is_macro):
        if segs[0] == "crate":
            base, rest = [], segs[1:]
        elif segs[0] in ("self", "super"):
            base, rest = list(f.segs), segs
            while rest and rest[0] in ("self", "super"):
                if rest[0] == "super":
                    if not base:
                        return None  # beyond the crate root
                    base.pop()
                rest = rest[1:]
        elif "::".join(f.segs + segs[:1]) in self.modules:
            base, rest = list(f.segs), segs  # a child module, in scope by its name
        else:
            return None  # an extern crate, a type, an enum variant, …
        rest = [s for s in rest if s != "self"]
        if is_macro and rest and rest[-1] in self.macros:
            return self.macros[rest[-1]]
        full = base + rest
        for k in range(len(full), 0, -1):
            if "::".join(full[:k]) in self.modules:
                return "::".join(full[:k])
        return "main" if f.name == "main" else self.root


def cycles(edges):
    """Each edge that lies on a cycle, with the shortest way back: [[a, b, …, a], …],
    deduplicated (a cycle found from several of its edges is listed once)."""
    succ = {}
    for a, b in sorted(edges):
        succ.setdefault(a, []).append(b)
    found, covered = [], set()
    for a, b in sorted(edges):
        if (a, b) in covered:
            continue
        prev, queue = {b: None}, [b]  # breadth-first: the shortest path b -> a
        while queue and a not in prev:
            v = queue.pop(0)
            for w in succ.get(v, []):
                if w not in prev:
                    prev[w] = v
                    queue.append(w)
        if a not in prev:
            continue
        path, v = [], a
        while v is not None:
            path.append(v)
            v = prev[v]
        cyc = [a] + path[::-1]  # a, b, …, a
        k = cyc.index(min(cyc[:-1]))  # start at the smallest name, so it is listed once
        cyc = cyc[k:-1] + cyc[:k] + [cyc[k]]
        covered.update(zip(cyc, cyc[1:]))
        if cyc not in found:
            found.append(cyc)
    return found


def functions(f):
    """(name, first line, last line) of every fn with a body."""
    code = f.code
    for m in FN_DEF.finditer(code):
        i, depth = m.end(), 0
        while i < len(code) and not (depth == 0 and code[i] in "{;"):
            depth += (code[i] in "([") - (code[i] in ")]")
            i += 1
        if i == len(code) or code[i] == ";":
            continue
        braces = 0
        for j in range(i, len(code)):
            braces += (code[j] == "{") - (code[j] == "}")
            if braces == 0:
                break
        yield m.group(1), f.line(m.start()), f.line(j)


class ConfigError(Exception):
    pass


def load_config(path):
    try:
        cfg = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: cannot read the config: {e}") from None
    layers = cfg.get("layers")
    if not isinstance(layers, list) or not all(
        isinstance(l, list) and all(isinstance(n, str) for n in l) for l in layers
    ):
        raise ConfigError(f"{path}: `layers` must be an array of arrays of module names")
    seen = {}
    for k, layer in enumerate(layers):
        for name in layer:
            if name in seen:
                raise ConfigError(f"{path}: {name!r} is in layer {seen[name] + 1} and {k + 1}")
            seen[name] = k
    cfg["layer_of_name"] = seen
    return cfg


def check(root, cfg, cfg_shown, graph=False):
    crate = Crate(root)
    errors, warnings = [], []  # (path, line, message)
    where = lambda e: crate.edges[e][0]

    def is_parent_edge(a, b):
        return cfg.get("allow_child_to_parent", True) and a.rpartition("::")[0] == b != ""

    # 1. cycles
    for cyc in cycles([e for e in crate.edges if not is_parent_edge(*e)]):
        errors.append((*where((cyc[0], cyc[1])), "import cycle: " + " -> ".join(cyc)))
    # 2. layers
    names = cfg["layer_of_name"]

    def layer(mod):
        hits = [n for n in names if mod == n or mod.startswith(n + "::")]
        return names[max(hits, key=len)] if hits else None

    for f in crate.files:
        if layer(f.name) is None:
            errors.append((f.rel, 1, f"module {f.name} is in no layer; add it to {cfg_shown}"))
    for name in names:
        if not any(m == name or m.startswith(name + "::") for m in crate.modules):
            warnings.append((cfg_shown, None, f"warning: layer name {name!r} matches no module"))
    for a, b in sorted(crate.edges):
        la, lb = layer(a), layer(b)
        if la is not None and lb is not None and la < lb:
            n = len(crate.edges[(a, b)])
            errors.append((*where((a, b)), f"{a} (layer {la + 1}) uses {b} (layer {lb + 1}), a "
                           f"higher layer ({n} use{'s' * (n > 1)}); see {cfg_shown}"))
    # 3. and 4. sizes
    max_file, max_fn = cfg.get("max_file_lines", 600), cfg.get("max_fn_lines", 100)
    largest, longest = (None, 0), (None, 0)
    for f in crate.files:
        largest = max(largest, (f.rel, f.body_lines), key=lambda t: t[1])
        if f.body_lines > max_file:
            errors.append((f.rel, 1, f"file has {f.body_lines} lines before its unit tests "
                           f"(limit {max_file})"))
        for name, start, end in functions(f):
            length = end - start + 1
            longest = max(longest, (f"{f.name}::{name}", length), key=lambda t: t[1])
            if length > max_fn:
                errors.append((f.rel, start, f"fn {f.name}::{name} is {length} lines "
                               f"(limit {max_fn})"))

    if graph:
        for (a, b), uses in sorted(crate.edges.items()):
            print(f"{a} -> {b}  ({uses[0][0]}:{uses[0][1]}, {len(uses)} use(s))")
    for path, _, msg in warnings:
        print(f"{path}: {msg}", file=sys.stderr)
    for path, line, msg in sorted(errors, key=lambda e: (e[0], e[1])):
        print(f"{path}:{line}: {msg}")
    if errors:
        print(f"check-layout: {len(errors)} violation(s)", file=sys.stderr)
        return 1
    print(f"layout ok: {len(crate.modules)} modules, {len(crate.edges)} edges, no cycles; "
          f"largest file {largest[0]} ({largest[1]} lines); "
          f"longest fn {longest[0]} ({longest[1]} lines)")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--graph", action="store_true", help="print the module edges first")
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                    help="the crate directory (default: the one this script is in)")
    ap.add_argument("--config", type=Path, help="default: ROOT/scripts/layers.toml")
    args = ap.parse_args()
    root = args.root.resolve()
    cfg_path = (args.config or root / "scripts" / "layers.toml").resolve()
    try:
        cfg_shown = cfg_path.relative_to(root).as_posix()
    except ValueError:
        cfg_shown = str(cfg_path)
    if not (root / "src").is_dir():
        print(f"check-layout: {root}/src is not a directory", file=sys.stderr)
        return 2
    try:
        cfg = load_config(cfg_path)
    except ConfigError as e:
        print(f"check-layout: {e}", file=sys.stderr)
        return 2
    return check(root, cfg, cfg_shown, args.graph)


if __name__ == "__main__":
    sys.exit(main())
