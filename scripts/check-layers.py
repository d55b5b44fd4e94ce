#!/usr/bin/env python3
"""Checks the layering of src/ from the Rust source (python3, stdlib only).

The layers, bottom up (an import only points down; CONTRIBUTING.md, "The
layers of `src/`"):

    base               error, executor_addr, log, sync, sys/
    sps                sps/
    core               session, service, notification, task_dispatcher,
                       controller_access (+ controller_access/),
                       wrapper_function/
    services           services/
    sps_ci             sps_ci/
    simple_remote_epc  simple_remote_epc/
    ffi                ffi/
    bin                bin/

The import graph has one node per file. Every path a file names is an edge:
`use` declarations (use trees expanded, `pub use` re-exports included),
`crate::a::b` anywhere in code, `super::` and `self::` paths, paths that
start with a child module or with a module brought in by `use` (alias or
glob), `$crate::` in macro bodies (an edge of the file that defines the
macro) and `orc_rt::` in src/bin. Comments, doc comments and literals are
ignored. A path goes to the file of the module it names; an item that
module re-exports or imports (`pub use`, `use`) is followed to the file that
defines it, so `crate::Error` is error.rs, not lib.rs. `mod x;`
declarations are not edges; src/lib.rs belongs to no layer.

Checks (each finding is printed as file:line):
  (a) no file outside src/ffi/ (src/bin excepted) names anything in `ffi`,
      not even an item that ffi only re-exports;
  (b) the file graph has no cycle (strongly connected component of more
      than one file), except among src/session.rs, src/controller_access.rs
      and src/controller_access/*;
  (c) no file imports a higher layer, by the module it names or by the
      file that defines the item (imports into ffi are reported by (a)).
      Within a layer any import is allowed (cycles aside).

Usage:
  scripts/check-layers.py [--root DIR]   check the tree at DIR (default: this
                                         repository); exit 1 on findings, 2
                                         if the source cannot be analysed
  scripts/check-layers.py --graph        the graph in dot on stdout (bad
                                         edges red, the allowed cycle
                                         orange), findings on stderr:
                                         ... --graph | dot -Tsvg > layers.svg
  scripts/check-layers.py --self-test    checks the checker on a fake tree
                                         with a known cycle, ffi import and
                                         upward import

Limits (a name-table approximation, not rustc's resolution): a `use` inside
a function counts for its whole module; a bare name that only a glob import
brings in, or a macro used by textual scope (#[macro_use]), is not followed;
#[path] attributes are refused.
"""

import argparse
import bisect
import os
import re
import sys
import tempfile

LAYERS = [
    ("base", ["error", "executor_addr", "handle", "log", "sync", "sys"]),
    ("sps", ["sps"]),
    (
        "core",
        [
            "session",
            "service",
            "notification",
            "task_dispatcher",
            "controller_access",
            "wrapper_function",
            "host_symbols",
        ],
    ),
    ("services", ["services", "sandbox"]),
    ("sps_ci", ["sps_ci"]),
    ("simple_remote_epc", ["simple_remote_epc"]),
    ("ffi", ["ffi"]),
    ("bin", ["bin"]),
]
LAYER_OF_TOP = {m: i for i, (_, mods) in enumerate(LAYERS) for m in mods}
LAYER_NAME = [name for name, _ in LAYERS]
FFI_TOP = "ffi"
# Files of these top-level modules may form a cycle among themselves.
ALLOWED_CYCLE_TOPS = {"session", "controller_access"}
LIB_CRATE = "orc_rt"

KEYWORDS = {
    "as", "async", "await", "break", "const", "continue", "crate", "dyn",
    "else", "enum", "extern", "false", "fn", "for", "if", "impl", "in",
    "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "union",
}
DEF_KEYWORDS = {"fn", "struct", "enum", "trait", "type", "const", "static", "union"}


class CheckError(Exception):
    """The source could not be analysed (not a finding)."""


# ---------------------------------------------------------------- lexing


def is_ident_char(c):
    return c.isalnum() or c == "_"


def strip_comments_and_literals(src):
    """Returns `src` with comments (doc comments included), string, byte
    string, raw string and char literals blanked out; newlines are kept, so
    offsets and line numbers stay valid."""
    out = list(src)
    n = len(src)
    i = 0

    def blank(a, b):
        for k in range(a, min(b, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(i, j)
            i = j
        elif c in "rbc" and (i == 0 or not is_ident_char(src[i - 1])):
            m = re.match(r'(?:br|cr|r)(#*)"', src[i:])
            if m:
                close = '"' + m.group(1)
                j = src.find(close, i + m.end())
                j = n if j < 0 else j + len(close)
                blank(i, j)
                i = j
            elif src.startswith(('b"', 'c"'), i):
                j = skip_string(src, i + 1)
                blank(i, j)
                i = j
            else:
                i += 1
        elif c == '"':
            j = skip_string(src, i)
            blank(i, j)
            i = j
        elif c == "'":
            # A char literal ('a', '\n', '\u{1F600}'), or a lifetime/label.
            if i + 1 < n and src[i + 1] == "\\":
                j = src.find("'", i + 3)
                j = n if j < 0 else j + 1
                blank(i, j)
                i = j
            elif i + 2 < n and src[i + 2] == "'" and src[i + 1] != "\n":
                blank(i, i + 3)
                i += 3
            else:
                i += 1
        else:
            i += 1
    return "".join(out)


def skip_string(src, i):
    """`src[i]` is an opening quote; returns the offset after the closing one."""
    j = i + 1
    n = len(src)
    while j < n:
        if src[j] == "\\":
            j += 2
        elif src[j] == '"':
            return j + 1
        else:
            j += 1
    return n


TOKEN_RE = re.compile(
    r"r#[A-Za-z_][A-Za-z0-9_]*|\$?[A-Za-z_][A-Za-z0-9_]*|[0-9][A-Za-z0-9_.]*|::|[^\sA-Za-z0-9_]"
)


def tokenize(src):
    """Tokens of the stripped source as (text, line) pairs."""
    code = strip_comments_and_literals(src)
    line_starts = [0] + [m.end() for m in re.finditer("\n", code)]
    toks = []
    for m in TOKEN_RE.finditer(code):
        t = m.group(0)
        if t.startswith("r#"):
            t = t[2:]
        toks.append((t, bisect.bisect_right(line_starts, m.start())))
    return toks


def is_ident(t):
    return bool(re.match(r"^\$?[A-Za-z_][A-Za-z0-9_]*$", t))


# ---------------------------------------------------------------- modules


class Module:
    """A module: a file, or an inline `mod x { ... }` inside one."""

    def __init__(self, crate, path, file):
        self.crate = crate  # LIB_CRATE or "bin:<name>"
        self.path = path  # tuple of names below the crate root
        self.file = file  # path relative to the root, e.g. src/session.rs
        self.children = {}  # name -> Module
        self.parent = None
        self.defs = set()  # item names defined here
        self.imports = {}  # name -> (Module context, segments)
        self.globs = []  # (Module context, segments)


class UsePath:
    """A path named in a file: where, its segments, and the module context."""

    def __init__(self, file, line, ctx, segs, in_use, reexport=False):
        self.file, self.line, self.ctx, self.segs, self.in_use = file, line, ctx, segs, in_use
        # A `pub use`: the module re-exports the item as part of its face.
        self.reexport = reexport

    def text(self):
        return "::".join(self.segs)


class Analysis:
    def __init__(self, root):
        self.root = root
        self.files = {}  # rel file -> tokens
        self.file_module = {}  # rel file -> Module (the file's module)
        self.roots = {}  # crate -> root Module
        self.macro_exports = {}  # crate -> {name: file}
        self.paths = []  # UsePath
        self.notes = []

    # -- loading

    def load(self):
        src = os.path.join(self.root, "src")
        lib = os.path.join(src, "lib.rs")
        if not os.path.isfile(lib):
            raise CheckError("%s not found" % lib)
        self.load_crate(LIB_CRATE, "src/lib.rs")
        bindir = os.path.join(src, "bin")
        if os.path.isdir(bindir):
            for name in sorted(os.listdir(bindir)):
                if name.endswith(".rs"):
                    self.load_crate("bin:" + name[:-3], "src/bin/" + name)
                elif os.path.isfile(os.path.join(bindir, name, "main.rs")):
                    self.load_crate("bin:" + name, "src/bin/%s/main.rs" % name)
        if os.path.isfile(os.path.join(src, "main.rs")):
            self.load_crate("bin:main", "src/main.rs")
        for dirpath, _, names in os.walk(src):
            for name in names:
                rel = os.path.relpath(os.path.join(dirpath, name), self.root)
                rel = rel.replace(os.sep, "/")
                if name.endswith(".rs") and rel not in self.file_module:
                    self.notes.append("%s is not part of any crate: not checked" % rel)

    def load_crate(self, crate, rel):
        root = Module(crate, (), rel)
        self.roots[crate] = root
        self.macro_exports[crate] = {}
        self.load_file(root, rel, is_dir_owner=True)

    def load_file(self, module, rel, is_dir_owner):
        """Scans one file: module declarations, inline modules, definitions,
        imports and named paths. `is_dir_owner`: lib.rs, main.rs, mod.rs
        (whose child files sit beside them)."""
        if rel in self.file_module:
            raise CheckError("%s is declared as a module twice" % rel)
        with open(os.path.join(self.root, rel), encoding="utf-8") as f:
            toks = tokenize(f.read())
        balance = {"{": 0, "(": 0, "[": 0}
        closing = {"}": "{", ")": "(", "]": "["}
        for t, _ in toks:
            if t in balance:
                balance[t] += 1
            elif t in closing:
                balance[closing[t]] -= 1
        if any(balance.values()):
            # Literals or comments were not recognized: the rest of the
            # analysis of this file would be wrong.
            raise CheckError("%s: unbalanced brackets after removing comments and literals" % rel)
        self.files[rel] = toks
        self.file_module[rel] = module
        base = os.path.dirname(rel)
        if not is_dir_owner:
            base = os.path.join(base, os.path.basename(rel)[:-3])
        stack = [(module, 0, base)]  # (module, brace depth, child dir)
        depth = 0
        pending_inline = None
        macro_export = False
        i = 0
        n = len(toks)
        while i < n:
            t, line = toks[i]
            cur, _, cur_dir = stack[-1]
            nxt = toks[i + 1][0] if i + 1 < n else ""
            if t == "#" and nxt in ("[", "!") and i + 2 < n:
                k = i + 2 if nxt == "[" else i + 3
                attr = toks[k][0] if k < n else ""
                if attr == "path" and k + 1 < n and toks[k + 1][0] == "=":
                    raise CheckError("%s:%d: #[path] is not supported" % (rel, line))
                if attr == "macro_export":
                    macro_export = True
            if t == "mod" and is_ident(nxt) and i + 2 < n:
                after = toks[i + 2][0]
                if after == ";":
                    child_rel = self.find_child_file(cur_dir, nxt, rel, line)
                    child = Module(module.crate, cur.path + (nxt,), child_rel)
                    child.parent = cur
                    cur.children[nxt] = child
                    cur.defs.add(nxt)
                    self.load_file(child, child_rel, os.path.basename(child_rel) == "mod.rs")
                    i += 3
                    continue
                if after == "{":
                    pending_inline = nxt
                    i += 2
                    continue
            if t == "{":
                depth += 1
                if pending_inline is not None:
                    inner = Module(module.crate, cur.path + (pending_inline,), rel)
                    inner.parent = cur
                    cur.children[pending_inline] = inner
                    cur.defs.add(pending_inline)
                    stack.append((inner, depth, os.path.join(cur_dir, pending_inline)))
                    pending_inline = None
            elif t == "}":
                if len(stack) > 1 and stack[-1][1] == depth:
                    stack.pop()
                depth -= 1
            elif t == "use":
                pub = i > 0 and toks[i - 1][0] in ("pub", ")")
                j = self.parse_use(toks, i + 1, rel, cur, pub)
                i = j + 1
                continue
            elif t in DEF_KEYWORDS and is_ident(nxt) and nxt not in KEYWORDS:
                cur.defs.add(nxt)
            elif t == "macro_rules" and nxt == "!" and i + 2 < n:
                name = toks[i + 2][0]
                cur.defs.add(name)
                if macro_export:
                    self.macro_exports[module.crate][name] = rel
                macro_export = False
            elif t in ("crate", "$crate", "super", "self", LIB_CRATE) and nxt == "::":
                if i == 0 or toks[i - 1][0] != "::":
                    j, segs = self.read_path(toks, i)
                    self.paths.append(UsePath(rel, line, cur, segs, False))
                    i = j
                    continue
            elif is_ident(t) and nxt == "::" and t not in KEYWORDS:
                # Maybe a path through a child module (checked once the tree
                # is complete).
                if i == 0 or toks[i - 1][0] not in ("::", "."):
                    j, segs = self.read_path(toks, i)
                    self.paths.append(UsePath(rel, line, cur, segs, False))
                    i = j
                    continue
            i += 1

    def find_child_file(self, cur_dir, name, rel, line):
        for cand in (os.path.join(cur_dir, name + ".rs"), os.path.join(cur_dir, name, "mod.rs")):
            if os.path.isfile(os.path.join(self.root, cand)):
                return cand.replace(os.sep, "/")
        raise CheckError("%s:%d: no file for module `%s`" % (rel, line, name))

    @staticmethod
    def read_path(toks, i):
        """Reads `a::b::c` from token i; returns (index after it, segments)."""
        segs = [toks[i][0]]
        j = i + 1
        while j + 1 < len(toks) and toks[j][0] == "::" and is_ident(toks[j + 1][0]):
            segs.append(toks[j + 1][0])
            j += 2
        return j, segs

    def parse_use(self, toks, i, rel, ctx, pub=False):
        """Parses a use tree starting at token i; records its leaves.
        Returns the index of the closing `;`."""
        n = len(toks)

        def tree(j, prefix):
            segs = list(prefix)
            line = toks[j][1] if j < n else 0
            if j < n and toks[j][0] == "::":
                j += 1
            while j < n:
                t, line = toks[j]
                if is_ident(t) and t != "as":
                    segs.append(t)
                    j += 1
                    if j < n and toks[j][0] == "::":
                        j += 1
                        continue
                    break
                if t == "*":
                    self.paths.append(UsePath(rel, line, ctx, segs, True, pub))
                    ctx.globs.append((ctx, segs))
                    return j + 1
                if t == "{":
                    j += 1
                    while j < n and toks[j][0] != "}":
                        if toks[j][0] == ",":
                            j += 1
                            continue
                        j = tree(j, segs)
                    return j + 1
                break
            alias = None
            if j + 1 < n and toks[j][0] == "as":
                alias = toks[j + 1][0]
                j += 2
            if segs and segs[-1] == "self":
                segs = segs[:-1]
            if segs:
                name = alias or segs[-1]
                self.paths.append(UsePath(rel, line, ctx, segs, True, pub))
                if name != "_":
                    ctx.imports.setdefault(name, (ctx, segs))
            return j

        j = i
        while j < n and toks[j][0] != ";":
            if toks[j][0] == ",":
                j += 1
                continue
            k = tree(j, [])
            j = k if k > j else j + 1
        return j

    # -- resolution

    def layer_of(self, rel):
        """(layer index, top-level module) of a file; (None, None) for a
        crate root."""
        parts = rel.split("/")
        if rel in ("src/lib.rs", "src/main.rs"):
            return None, None
        top = parts[1]
        if top.endswith(".rs"):
            top = top[:-3]
        if top not in LAYER_OF_TOP:
            raise CheckError("%s: module `%s` is in no layer (add it to LAYERS)" % (rel, top))
        return LAYER_OF_TOP[top], top

    def start(self, up, seen=None):
        """The module a path starts from, and how many segments that used."""
        s0 = up.segs[0]
        ctx = up.ctx
        if s0 in ("crate", "$crate"):
            crate = LIB_CRATE if s0 == "$crate" else ctx.crate
            return self.roots[crate], 1
        if s0 == LIB_CRATE and ctx.crate != LIB_CRATE:
            return self.roots[LIB_CRATE], 1
        if s0 == "self":
            return ctx, 1
        if s0 == "super":
            if ctx.parent is None:
                raise CheckError("%s:%d: `super` above the crate root" % (up.file, up.line))
            return ctx.parent, 1
        if s0 in ctx.children:
            return ctx.children[s0], 1
        # A module brought in by a `use` (`use crate::sps_ci::memory as mm;`
        # then `mm::x`), or a child of a module glob-imported here
        # (`use super::*;` in a test module, then `child::x`).
        seen = seen or set()
        if (id(ctx), s0) in seen:
            return None, 0
        seen.add((id(ctx), s0))
        if s0 in ctx.imports:
            ictx, segs = ctx.imports[s0]
            w = self.walk(UsePath(up.file, up.line, ictx, segs, True), seen)
            if w is not None and not w[1]:
                return w[0][-1], 1
            return None, 0
        for gctx, segs in ctx.globs:
            w = self.walk(UsePath(up.file, up.line, gctx, segs, True), seen)
            if w is not None and not w[1] and s0 in w[0][-1].children:
                return w[0][-1].children[s0], 1
        return None, 0

    def walk(self, up, seen=None):
        """Follows the path's module segments. Returns (modules visited, the
        remaining segments) or None for a path outside the crates."""
        mod, k = self.start(up, seen)
        if mod is None:
            return None
        visited = [mod]
        segs = up.segs
        while k < len(segs):
            s = segs[k]
            if s == "super" and mod.parent is not None:
                mod = mod.parent
            elif s == "self":
                pass
            elif s in mod.children:
                mod = mod.children[s]
            else:
                break
            visited.append(mod)
            k += 1
        return visited, segs[k:]

    def resolve(self, up, seen=None):
        """Returns (file of the named module, file defining the item, all
        modules the path and its re-exports went through) or None."""
        w = self.walk(up)
        if w is None:
            return None
        visited, rest = w
        mod = visited[-1]
        target = mod.file
        if rest:
            target = self.resolve_name(mod, rest[0], seen or set(), visited)
        return mod.file, target, visited

    def resolve_name(self, mod, name, seen, visited):
        if (id(mod), name) in seen:
            return mod.file
        seen.add((id(mod), name))
        if name in mod.imports:
            ctx, segs = mod.imports[name]
            r = self.resolve(UsePath(mod.file, 0, ctx, segs, True), seen)
            if r is not None:
                visited.extend(r[2])
                return r[1]
            return mod.file
        if name in mod.defs:
            return mod.file
        if mod.parent is None and name in self.macro_exports[mod.crate]:
            return self.macro_exports[mod.crate][name]
        for ctx, segs in mod.globs:
            w = self.walk(UsePath(mod.file, 0, ctx, segs, True))
            if w is None or w[1]:
                continue
            g = w[0][-1]
            if name in g.defs or name in g.imports:
                visited.extend(w[0])
                return self.resolve_name(g, name, seen, visited)
        return mod.file


# ---------------------------------------------------------------- checks


def tarjan(nodes, edges):
    """Strongly connected components (iterative Tarjan)."""
    index, low, on_stack, stack, sccs = {}, {}, set(), [], []
    counter = [0]
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                sccs.append(sorted(comp))
    return sccs


class Findings:
    def __init__(self):
        self.ffi = []  # (file, line, text)
        self.cycles = []  # ([files], [(file, line, target, text)])
        self.layers = []  # (file, line, text, message)
        self.allowed_cycles = []

    def count(self):
        return len(self.ffi) + len(self.cycles) + len(self.layers)


def check(root):
    """Analyses the tree at `root`; returns (Analysis, edges, Findings)."""
    a = Analysis(root)
    a.load()
    edges = {}  # file -> {file: [(line, text)]}
    # Edges left out of the cycle check: a folder module's `mod.rs`
    # re-exporting (`pub use`) items of its own children. That is the
    # module's public face, not a dependency of the parent on the child;
    # the children may then use the parent's shared items (its error type)
    # without forming a cycle.
    f = Findings()
    seen_ffi = set()
    seen_layer = set()
    for up in a.paths:
        r = a.resolve(up)
        if r is None:
            continue
        named, target, visited = r
        own_child = (
            up.reexport
            and os.path.basename(up.file) in ("mod.rs", "lib.rs")
            and target.startswith(os.path.dirname(up.file) + "/")
        )
        if target != up.file and not own_child:
            edges.setdefault(up.file, {}).setdefault(target, []).append((up.line, up.text()))
        if up.file.startswith("src/bin/") or up.file == "src/main.rs":
            continue
        src_layer, src_top = a.layer_of(up.file)
        # (a): anything in ffi, named or reached through a re-export.
        tops = {a.layer_of(m.file)[1] for m in visited} | {a.layer_of(target)[1]}
        if src_top != FFI_TOP and FFI_TOP in tops:
            if (up.file, up.line, up.text()) not in seen_ffi:
                seen_ffi.add((up.file, up.line, up.text()))
                f.ffi.append((up.file, up.line, up.text()))
            continue
        # (c): a higher layer, by the named module or the defining file.
        if src_layer is None:
            continue
        for dst in (named, target):
            dst_layer, dst_top = a.layer_of(dst)
            if dst_layer is not None and dst_layer > src_layer:
                key = (up.file, up.line, up.text())
                if key not in seen_layer:
                    seen_layer.add(key)
                    f.layers.append(
                        (
                            up.file,
                            up.line,
                            up.text(),
                            "%s (layer %s) imports %s (layer %s, %s)"
                            % (src_top, LAYER_NAME[src_layer], dst_top, LAYER_NAME[dst_layer], dst),
                        )
                    )
                break
    # (b): cycles.
    nodes = sorted(a.files)
    for comp in tarjan(nodes, {k: set(v) for k, v in edges.items()}):
        if len(comp) < 2:
            continue
        inner = []
        for s in comp:
            for d, uses in sorted(edges.get(s, {}).items()):
                if d in comp:
                    for line, text in uses:
                        inner.append((s, line, d, text))
        if all(a.layer_of(x)[1] in ALLOWED_CYCLE_TOPS for x in comp):
            f.allowed_cycles.append((comp, inner))
        else:
            f.cycles.append((comp, inner))
    return a, edges, f


def report(f, out):
    for file, line, text in f.ffi:
        print("%s:%d: (a) names ffi outside src/ffi/: %s" % (file, line, text), file=out)
    for comp, inner in f.cycles:
        print("(b) import cycle among %d files: %s" % (len(comp), ", ".join(comp)), file=out)
        for s, line, d, text in inner:
            print("    %s:%d: -> %s (%s)" % (s, line, d, text), file=out)
    for file, line, text, msg in f.layers:
        print("%s:%d: (c) %s: %s" % (file, line, msg, text), file=out)


def dot(a, edges, f, out):
    bad = set()
    for comp, inner in f.cycles:
        for s, _, d, _ in inner:
            bad.add((s, d))
    allowed = set()
    for comp, inner in f.allowed_cycles:
        for s, _, d, _ in inner:
            allowed.add((s, d))
    layer_bad = set()
    for file, line, text, msg in f.layers:
        layer_bad.add(file)
    ffi_src = {file for file, _, _ in f.ffi}
    print("digraph orc_rt_layers {", file=out)
    print("  rankdir=BT; node [shape=box, fontsize=10];", file=out)
    groups = {}
    for file in sorted(a.files):
        layer = a.layer_of(file)[0]
        groups.setdefault(layer, []).append(file)
    for layer in sorted(groups, key=lambda x: -1 if x is None else x):
        label = "root" if layer is None else LAYER_NAME[layer]
        print('  subgraph "cluster_%s" {' % label, file=out)
        print('    label="%s"; style=rounded;' % label, file=out)
        for file in groups[layer]:
            attrs = ""
            if file in ffi_src or file in layer_bad:
                attrs = " [color=red]"
            print('    "%s"%s;' % (file, attrs), file=out)
        print("  }", file=out)
    for s in sorted(edges):
        for d in sorted(edges[s]):
            n = len(edges[s][d])
            attrs = ['label="%d"' % n] if n > 1 else []
            sl, dl = a.layer_of(s)[0], a.layer_of(d)[0]
            if (s, d) in bad or (a.layer_of(d)[1] == FFI_TOP and a.layer_of(s)[1] not in (FFI_TOP, "bin")):
                attrs.append("color=red")
            elif sl is not None and dl is not None and dl > sl:
                attrs.append("color=red")
            elif (s, d) in allowed:
                attrs.append("color=orange")
            print('  "%s" -> "%s"%s;' % (s, d, " [%s]" % ", ".join(attrs) if attrs else ""), file=out)
    print("}", file=out)


# ---------------------------------------------------------------- self-test

SELF_TEST_TREE = {
    "src/lib.rs": """
//! A fake crate. `crate::ffi::x` in a doc comment is no import.
pub mod error;
pub mod sps;
pub mod session;
pub mod controller_access;
pub mod service;
pub mod notification;
pub mod ffi;
pub use error::Error;
""",
    "src/error.rs": """
pub struct Error;
// use crate::ffi::Handle;  (a comment)
/* crate::notification::Note, /* nested */ crate::ffi::Handle */
pub fn describe() -> &'static str { "crate::ffi::Handle in a string" }
pub const C: char = '"';
pub const Q: [u8; 2] = [b'"', b'\\''];
pub fn f<'a>(x: &'a str) -> &'a str { 'outer: loop { break 'outer x; } }
pub fn raw() -> &'static str { r#"crate::sps::Wire "quoted""# }
""",
    "src/sps/mod.rs": """
mod wire;
pub use wire::Wire;
pub fn up() -> crate::notification::Note { todo!() }
""",
    "src/sps/wire.rs": """
pub struct Wire(pub crate::Error);
""",
    "src/session.rs": """
use crate::controller_access::ControllerAccess;
pub struct Session;
#[cfg(test)]
mod tests {
    use super::*;
}
""",
    "src/controller_access.rs": """
mod in_process;
pub trait ControllerAccess { fn s(&self) -> crate::session::Session; }
pub use in_process::InProcess;
""",
    "src/controller_access/in_process.rs": """
pub struct InProcess(super::super::session::Session);
""",
    "src/service.rs": """
use crate::notification::Note;
pub trait Service {}
""",
    "src/notification.rs": """
pub struct Note;
pub fn service() -> Option<&'static dyn crate::service::Service> { None }
macro_rules! boundary {
    () => { $crate::ffi::Handle::new() };
}
""",
    "src/ffi/mod.rs": """
pub struct Handle;
pub fn s() -> crate::session::Session { crate::session::Session }
""",
    "src/bin/tool.rs": """
use orc_rt::ffi::Handle;
fn main() {}
""",
}


def self_test():
    failures = []

    def expect(cond, what):
        if not cond:
            failures.append(what)

    with tempfile.TemporaryDirectory(prefix="check-layers-") as tmp:
        for rel, text in SELF_TEST_TREE.items():
            path = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        try:
            a, edges, f = check(tmp)
        except CheckError as e:
            print("check-layers self-test: FAIL: %s" % e, file=sys.stderr)
            return 1
        ffi = sorted((file, line) for file, line, _ in f.ffi)
        expect(
            ffi == [("src/notification.rs", 5)],
            "ffi findings: want [src/notification.rs:5], got %s" % ffi,
        )
        cycles = [comp for comp, _ in f.cycles]
        expect(
            cycles == [["src/notification.rs", "src/service.rs"]],
            "cycles: want [notification.rs, service.rs], got %s" % cycles,
        )
        allowed = [comp for comp, _ in f.allowed_cycles]
        expect(
            allowed
            == [["src/controller_access.rs", "src/controller_access/in_process.rs", "src/session.rs"]],
            "allowed cycles: got %s" % allowed,
        )
        layers = sorted((file, line) for file, line, _, _ in f.layers)
        expect(
            layers == [("src/sps/mod.rs", 4)],
            "layer findings: want [src/sps/mod.rs:4], got %s" % layers,
        )
        # Re-exports are followed: crate::Error is error.rs, wire::Wire is
        # wire.rs; comments and literals give no edge.
        expect("src/error.rs" in edges.get("src/sps/wire.rs", {}), "crate::Error not followed to error.rs")
        expect("src/lib.rs" not in {d for e in edges.values() for d in e}, "an edge into lib.rs")
        expect(
            set(edges.get("src/error.rs", {})) == set(),
            "edges from error.rs (comments/literals): %s" % edges.get("src/error.rs"),
        )
        expect(
            "src/ffi/mod.rs" in edges.get("src/bin/tool.rs", {}),
            "bin -> ffi edge missing (orc_rt:: paths in src/bin)",
        )
        # The findings make the check fail; without them it passes.
        expect(f.count() == 3, "finding count: want 3, got %d" % f.count())
        for rel, old, new in [
            ("src/notification.rs", "$crate::ffi::Handle::new()", "()"),
            ("src/notification.rs", "Option<&'static dyn crate::service::Service>", "Option<()>"),
            ("src/sps/mod.rs", "crate::notification::Note", "()"),
        ]:
            path = os.path.join(tmp, rel)
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            assert old in text, old
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text.replace(old, new))
        try:
            _, _, f2 = check(tmp)
        except CheckError as e:
            print("check-layers self-test: FAIL: %s" % e, file=sys.stderr)
            return 1
        expect(f2.count() == 0, "fixed tree: want no findings, got %d" % f2.count())
    if failures:
        for w in failures:
            print("check-layers self-test: FAIL: %s" % w, file=sys.stderr)
        return 1
    print(
        "check-layers self-test: ok (ffi import, cycle and upward import found;"
        " comments, literals and the allowed cycle ignored)"
    )
    return 0


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__[__doc__.index("\n\n") + 2 :],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--graph", action="store_true", help="print the import graph (dot) on stdout")
    ap.add_argument("--self-test", action="store_true", help="check the checker on a fake tree")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    try:
        a, edges, f = check(os.path.abspath(args.root))
    except CheckError as e:
        print("check-layers: error: %s" % e, file=sys.stderr)
        return 2
    out = sys.stderr if args.graph else sys.stdout
    if args.graph:
        dot(a, edges, f, sys.stdout)
    for note in a.notes:
        print("check-layers: note: %s" % note, file=out)
    report(f, out)
    nedges = sum(len(v) for v in edges.values())
    if f.count():
        print(
            "check-layers: FAIL: %d findings (ffi imports: %d, cycles: %d, layer violations: %d)"
            " in %d files, %d edges"
            % (f.count(), len(f.ffi), len(f.cycles), len(f.layers), len(a.files), nedges),
            file=out,
        )
        return 1
    print(
        "check-layers: ok: %d files, %d edges; no ffi import, no cycle but the allowed one,"
        " no upward import" % (len(a.files), nedges),
        file=out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
