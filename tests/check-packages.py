#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-packages.py: proves that scripts/lib.sh's PT_PACKAGES installs what
the tests, the examples and the demo use at run time on a fresh Debian 12
machine -- not just that they pass here, where more may be installed by hand.

    tests/check-packages.py [--srcdir DIR] [--registry FILE] [--plugin-dir DIR]
                            [--lib-sh FILE] [--no-self-check] [-v]

It reads the sources (scripts/, tests/ with its shell scripts and C++ tests,
examples/ in C and Python, tools/, and gst/ and src/ too) and finds:

  * every GStreamer element they create: gst_element_factory_make() and the
    other factory/harness calls, Gst.ElementFactory.make(), and every element
    named in a launch line: gst-launch-1.0 command lines in shell scripts,
    gst_parse_launch()/gst_harness_new_parse()/Gst.parse_launch() strings,
    also when built from several literals or from variables (a variable in an
    element's place is followed to its assignments or, for a parameter, to
    the callers' arguments).  Launch lines are tokenized as GStreamer does:
    name=value is a property (font-desc="Noto Sans Arabic 26" names no
    element), video/x-raw,width=1 is caps (a capsfilter), ov.text_sink and d.
    are references.  The project's own elements (registered in gst/) are
    left out;
  * the programs the scripts run (command words of shell scripts, script
    interpreters, find_program()/run_command() in meson.build files, Python
    subprocess calls), the non-standard Python modules imported (gi), the
    GObject-introspection typelibs (Gst) and the fonts named by font-desc.

Each one is found on this machine -- an element in the GStreamer registry
(the system plugin directory only), a program in /usr/bin, /bin, /usr/sbin or
/sbin, a module or typelib with Debian's /usr/bin/python3 -- and its file
mapped to the Debian package that owns it (dpkg -S).  The check fails, naming
the element or program, the file using it and the package, unless that
package is in PT_PACKAGES, in the dependency closure of PT_PACKAGES
(apt-cache depends --recurse, without recommends; of alternatives "a | b"
the first, which apt installs on a fresh machine; a virtual package counts
when one package provides it), or part of every Debian system (Essential: yes
or Priority: required).  Something not found at all, or a name it cannot
work out from the source, fails too.

Then it checks it can fail: the same check with a copy of lib.sh whose list
lacks gstreamer1.0-x must fail, naming textoverlay.

Exit status 0: everything proven; 1: a failure (each printed on a FAIL:
line); 2: the check could not run.  Standard library only; runs GStreamer
through /usr/bin/python3's gi (or gst-inspect-1.0 without it).
"""
import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

DEBIAN_BIN_DIRS = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
DEBIAN_PYTHON = "/usr/bin/python3"
SELF_CHECK_PACKAGE = "gstreamer1.0-x"
SELF_CHECK_ELEMENT = "textoverlay"

# C/C++ calls: argument index holding an element factory name, or a launch line
CXX_FACTORY_ARG = {
    "gst_element_factory_make": 0,
    "gst_element_factory_make_full": 0,
    "gst_element_factory_make_with_properties": 0,
    "gst_element_factory_make_valist": 0,
    "gst_element_factory_find": 0,
    "gst_harness_new": 0,
    "gst_harness_new_full": 0,
    "gst_harness_new_with_padnames": 0,
    "gst_harness_new_with_templates": 0,
    "gst_harness_add_src": 1,
    "gst_harness_add_sink": 1,
    "gst_check_setup_element": 0,
}
CXX_LAUNCH_ARG = {
    "gst_parse_launch": 0,
    "gst_parse_launch_full": 0,
    "gst_parse_bin_from_description": 0,
    "gst_parse_bin_from_description_full": 0,
    "gst_harness_new_parse": 0,
    "gst_harness_add_parse": 1,
    "gst_harness_add_src_parse": 1,
    "gst_harness_add_sink_parse": 1,
}
# Python (PyGObject): dotted-name suffix -> (argument index, "factory"/"launch")
PY_CALLS = {
    "ElementFactory.make": (0, "factory"),
    "ElementFactory.find": (0, "factory"),
    "parse_launch": (0, "launch"),
    "parse_launch_full": (0, "launch"),
    "parse_bin_from_description": (0, "launch"),
    "parse_bin_from_description_full": (0, "launch"),
}
PY_SUBPROCESS = {"run", "call", "check_call", "check_output", "Popen", "execvp", "execlp"}

SHELL_BUILTINS = set("""
: . [ [[ ]] alias bg bind break builtin caller cd command compgen complete continue
declare dirs disown echo enable eval exec exit export false fc fg getopts hash help
history jobs kill let local logout mapfile popd printf pushd pwd read readarray readonly
return set shift shopt source suspend test times trap true type typeset ulimit umask
unalias unset wait if then else elif fi case esac for select while until do done in
function time { } ! coproc
""".split())
SHELL_PREFIX_WORDS = {"if", "then", "else", "elif", "while", "until", "do", "!", "time",
                      "exec", "nohup", "builtin", "{"}
SHELL_DECLARE = {"local", "export", "declare", "readonly", "typeset"}
PROGRAM_WORD = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")

PH = re.compile(r"\x00(\d+)\x00")  # a placeholder for a value not known from the text


def log(*a):
    print(*a, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kw)


class Findings:
    def __init__(self):
        self.uses = {}        # (kind, name) -> [use, ...]
        self.problems = []    # failures found while reading the sources
        self.font_props = []  # (family, use)

    def add(self, kind, name, use):
        lst = self.uses.setdefault((kind, name), [])
        if use not in lst:
            lst.append(use)

    def problem(self, use, msg):
        text = "%s: %s" % (use, msg)
        if text not in self.problems:
            self.problems.append(text)


class Placeholders:
    """Values the text does not give directly (a variable, a call), kept in
    launch strings as \\x00N\\x00 and resolved only when they stand where an
    element's name goes."""

    def __init__(self):
        self.items = []

    def new(self, resolver, desc):
        self.items.append((resolver, desc))
        return "\x00%d\x00" % (len(self.items) - 1)

    def resolve(self, k, depth):
        resolver, desc = self.items[k]
        return resolver(depth), desc


PHS = Placeholders()


# --- launch lines ------------------------------------------------------------

def launch_tokens(s):
    """Splits a launch description as gst_parse_launch does: whitespace
    outside quotes separates, ! is a link, prop = value is one token."""
    toks, cur, q, i = [], "", None, 0
    while i < len(s):
        c = s[i]
        if q:
            cur += c
            if c == "\\" and i + 1 < len(s):
                cur += s[i + 1]
                i += 1
            elif c == q:
                q = None
        elif c in "\"'":
            q = c
            cur += c
        elif c == "\\" and i + 1 < len(s):
            cur += c + s[i + 1]
            i += 1
        elif c.isspace():
            if cur:
                toks.append(cur)
            cur = ""
        elif c == "!":
            if cur:
                toks.append(cur)
            toks.append("!")
            cur = ""
        else:
            cur += c
        i += 1
    if cur:
        toks.append(cur)
    merged = []
    for t in toks:
        if merged and t != "!" and merged[-1] != "!" and (t.startswith("=") or merged[-1].endswith("=")):
            merged[-1] += t
        else:
            merged.append(t)
    return merged


def unquote(v):
    v = v.strip()
    if len(v) >= 2 and v[0] in "\"'" and v[-1] == v[0]:
        v = v[1:-1]
    return v


def classify(tok):
    """-> (kind, value): link, prop, caps, ref, element, placeholder, skip, bad"""
    if tok == "!":
        return "link", None
    t = tok
    if t in ("(", ")"):
        return "skip", None
    if t.startswith("(") and ")" not in t:
        t = t[1:]
    if t.endswith(")") and "(" not in t:
        t = t[:-1]
    if not t:
        return "skip", None
    m = re.match(r"^([A-Za-z_][\w-]*(?:::[\w-]+)*)=(.*)$", t, re.S)
    if m:
        return "prop", (m.group(1), unquote(m.group(2)))
    t = unquote(t)
    if re.match(r"^(ANY|NONE|EMPTY)$", t) or re.match(r"^[a-z]+/[\w.+*\x00-]+", t):
        return "caps", t
    m = re.fullmatch(r"\x00(\d+)\x00", t)
    if m:
        return "placeholder", int(m.group(1))
    if re.fullmatch(r"[A-Za-z][\w-]*", t):
        return "element", t
    if re.fullmatch(r"[\w\x00-]*\.[\w%\x00-]*", t):
        return "ref", t
    if "://" in t:
        return "bad", "a URI in an element's place (%s)" % t
    return "bad", t


def show(s):
    return PH.sub("…", s)


def elements_of_launch(tokens, use, fnd, own, depth=0):
    """Records the elements of a tokenized launch line; placeholders in an
    element's place are resolved (each value may itself be a fragment)."""
    for tok in tokens:
        kind, val = classify(tok)
        if kind == "element":
            if val not in own:
                fnd.add("element", val, use)
        elif kind == "caps":
            fnd.add("element", "capsfilter", use)  # the parser makes one for caps
        elif kind == "prop":
            name, value = val
            if name == "font-desc" and not PH.search(value):
                fnd.font_props.append((value, use))
        elif kind == "placeholder":
            if depth > 8:
                fnd.problem(use, "launch line: values nested too deep")
                continue
            values, desc = PHS.resolve(val, depth + 1)
            if not values:
                fnd.problem(use, "launch line: cannot tell which element %s names" % desc)
            for v in values:
                elements_of_launch(launch_tokens(text_of(v)), use, fnd, own, depth + 1)
        elif kind == "bad":
            fnd.problem(use, "launch line: cannot read %r (%s)" % (show(val), "an element's place"))


def element_names(values, desc, use, fnd, own):
    """A factory-name argument: each value must be one element name."""
    if not values:
        fnd.problem(use, "cannot tell which element %s names" % desc)
    for v in values:
        v = text_of(v)
        if v in own:
            continue
        m = PH.fullmatch(v)
        if m:
            vals, d = PHS.resolve(int(m.group(1)), 1)
            element_names(vals, d, use, fnd, own)
        elif re.fullmatch(r"[A-Za-z][\w-]*", v):
            fnd.add("element", v, use)
        else:
            fnd.problem(use, "%r is not an element name (%s)" % (show(v), desc))


def text_of(v):
    """Resolved values come as strings or as (string, line)."""
    return v[0] if isinstance(v, tuple) else v


def products(lists, cap=64):
    lists = [[text_of(a) for a in alts] for alts in lists]
    out = [""]
    for alts in lists:
        out = [a + b for a in out for b in alts][:cap]
    return out


def refine_line(lines, start, name):
    """The first line at or after START (1-based) that names NAME."""
    pat = re.compile(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])")
    for k in range(start - 1, min(len(lines), start + 60)):
        if pat.search(lines[k]):
            return k + 1
    return start


# --- C and C++ ---------------------------------------------------------------

CXX_TOKEN = re.compile(r"""
  (?P<nl>\n)
| (?P<ws>[ \t\r\f\v]+)
| (?P<lcomment>//[^\n]*)
| (?P<bcomment>/\*.*?\*/)
| (?P<raw>(?:u8|[uUL])?R"(?P<delim>[^()\\\s"]{0,16})\((?P<rawbody>.*?)\)(?P=delim)")
| (?P<str>(?:u8|[uUL])?"(?:[^"\\\n]|\\.)*")
| (?P<chr>(?:u8|[uUL])?'(?:[^'\\\n]|\\.)*')
| (?P<id>[A-Za-z_]\w*)
| (?P<num>\.?[0-9](?:[\w.']|[eEpP][+-])*)
| (?P<op>::|->|\.\.\.|\+\+|--|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^!~<>=?:;,.()\[\]{}#\\@$`])
""", re.S | re.X)


def c_unescape(body):
    simple = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}

    def rep(m):
        e = m.group(1)
        if e[0] == "x":
            return chr(int(e[1:], 16))
        if e[0] in "01234567":
            return chr(int(e, 8))
        if e[0] in "uU" and len(e) > 1:
            return chr(int(e[1:], 16))
        return simple.get(e, e)
    return re.sub(r"\\(x[0-9a-fA-F]+|[0-7]{1,3}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", rep, body, flags=re.S)


class CxxFile:
    def __init__(self, rel, text):
        self.rel = rel
        self.lines = text.splitlines()
        self.toks = []      # [kind, value, line]
        self.defines = {}   # name -> (string, line)
        self.lex(text)
        self.funcs = []     # dicts: name, params, start, end, name_index
        self.find_functions()

    def lex(self, text):
        pos, line, bol = 0, 1, True
        toks = []
        while pos < len(text):
            if bol:
                m = re.match(r"[ \t]*#", text[pos:pos + 200])
                if m:
                    end = pos
                    while True:
                        nl = text.find("\n", end)
                        if nl < 0:
                            nl = len(text)
                            break
                        if text[nl - 1] == "\\":
                            end = nl + 1
                            continue
                        break
                    directive = text[pos:nl]
                    d = re.match(r'\s*#\s*define\s+(\w+)\s+((?:(?:u8|[uUL])?"(?:[^"\\\n]|\\.)*"\s*)+)$',
                                 directive)
                    if d:
                        value = "".join(c_unescape(s) for s in re.findall(r'"((?:[^"\\\n]|\\.)*)"', d.group(2)))
                        self.defines[d.group(1)] = (value, line)
                    line += directive.count("\n")
                    pos = nl
                    continue
            m = CXX_TOKEN.match(text, pos)
            if not m:
                pos += 1
                continue
            kind = m.lastgroup
            if kind in ("rawbody", "delim"):
                kind = "raw"
            value = m.group(0)
            if kind == "nl":
                line += 1
                bol = True
                pos = m.end()
                continue
            pos = m.end()
            if kind in ("ws",):
                continue
            bol = False
            if kind in ("lcomment", "bcomment"):
                line += value.count("\n")
                continue
            if kind == "raw":
                toks.append(["str", m.group("rawbody"), line])
            elif kind == "str":
                body = re.sub(r'^(?:u8|[uUL])?"', "", value)[:-1]
                toks.append(["str", c_unescape(body), line])
            else:
                toks.append([kind if kind != "chr" else "num", value, line])
            line += value.count("\n")
        # adjacent literals are one string
        merged = []
        for t in toks:
            if t[0] == "str" and merged and merged[-1][0] == "str":
                merged[-1][1] += t[1]
            else:
                merged.append(t)
        self.toks = merged

    def tv(self, i):
        return self.toks[i][1] if 0 <= i < len(self.toks) else None

    def match_close(self, i):
        """Index of the bracket closing the one at i."""
        pairs = {"(": ")", "[": "]", "{": "}"}
        o = self.toks[i][1]
        c = pairs[o]
        depth = 0
        for j in range(i, len(self.toks)):
            v = self.toks[j]
            if v[0] != "op":
                continue
            if v[1] == o:
                depth += 1
            elif v[1] == c:
                depth -= 1
                if depth == 0:
                    return j
        return len(self.toks) - 1

    def match_open(self, j):
        pairs = {")": "(", "]": "[", "}": "{"}
        c = self.toks[j][1]
        o = pairs[c]
        depth = 0
        for i in range(j, -1, -1):
            v = self.toks[i]
            if v[0] != "op":
                continue
            if v[1] == c:
                depth += 1
            elif v[1] == o:
                depth -= 1
                if depth == 0:
                    return i
        return 0

    def find_functions(self):
        stack = []
        for i, (kind, val, line) in enumerate(self.toks):
            if kind != "op":
                continue
            if val == "{":
                p = i - 1
                while p >= 0 and self.toks[p][0] == "id" and self.toks[p][1] in (
                        "const", "noexcept", "override", "final", "mutable"):
                    p -= 1
                func = None
                if p >= 0 and self.toks[p][1] == ")" and self.toks[p][0] == "op":
                    q = self.match_open(p)
                    name_i = q - 1
                    if name_i >= 0 and self.toks[name_i][0] == "id" and self.toks[name_i][1] not in (
                            "if", "for", "while", "switch", "catch", "return", "sizeof", "decltype",
                            "alignof", "static_assert"):
                        func = {"name": self.toks[name_i][1], "params": self.params(q, p),
                                "start": i, "end": None, "name_index": name_i}
                stack.append(func)
            elif val == "}" and stack:
                func = stack.pop()
                if func:
                    func["end"] = i
                    self.funcs.append(func)

    def split_args(self, lo, hi):
        """Top-level comma-separated token ranges in [lo, hi)."""
        args, depth, start = [], 0, lo
        for j in range(lo, hi):
            k, v, _ = self.toks[j]
            if k == "op" and v in "([{":
                depth += 1
            elif k == "op" and v in ")]}":
                depth -= 1
            elif k == "op" and v == "," and depth == 0:
                args.append((start, j))
                start = j + 1
        if start < hi:
            args.append((start, hi))
        return args

    def params(self, q, p):
        names = []
        for lo, hi in self.split_args(q + 1, p):
            part = [t for t in self.toks[lo:hi]]
            for k, t in enumerate(part):
                if t[0] == "op" and t[1] == "=":
                    part = part[:k]
                    break
            ids = [t[1] for t in part if t[0] == "id"]
            names.append(ids[-1] if ids and not (len(ids) == 1 and ids[0] == "void") else None)
        return names

    def func_at(self, i):
        best = None
        for f in self.funcs:
            if f["start"] < i < f["end"] and (best is None or f["start"] > best["start"]):
                best = f
        return best

    def use(self, i):
        return "%s:%d" % (self.rel, self.toks[i][2])


class CxxScanner:
    def __init__(self, files, fnd, own):
        self.files = files
        self.fnd = fnd
        self.own = own
        # calls by name: (file, index of the name token)
        self.calls = {}
        for f in files:
            defs = {fn["name_index"] for fn in f.funcs}
            for i, t in enumerate(f.toks):
                if t[0] == "id" and f.tv(i + 1) == "(" and i not in defs and f.tv(i - 1) not in (".", "->"):
                    self.calls.setdefault(t[1], []).append((f, i))

    def args_of(self, f, i):
        close = f.match_close(i + 1)
        return f.split_args(i + 2, close)

    def scan(self):
        for name, idx in CXX_FACTORY_ARG.items():
            for f, i in self.calls.get(name, []):
                args = self.args_of(f, i)
                if idx < len(args):
                    lo, hi = args[idx]
                    vals = self.eval(f, lo, hi, 0)
                    element_names(vals, "%s() argument" % name, f.use(lo), self.fnd, self.own)
        for name, idx in CXX_LAUNCH_ARG.items():
            for f, i in self.calls.get(name, []):
                args = self.args_of(f, i)
                if idx < len(args):
                    lo, hi = args[idx]
                    self.launch(f, lo, hi, name)

    def launch(self, f, lo, hi, name):
        vals = self.eval(f, lo, hi, 0)
        start = f.toks[lo][2]
        if not vals:
            self.fnd.problem(f.use(lo), "cannot read the launch line of %s()" % name)
        for v in vals:
            m = PH.fullmatch(v)
            if m:  # a variable holding the whole line
                inner, desc = PHS.resolve(int(m.group(1)), 1)
                if not inner:
                    self.fnd.problem(f.use(lo), "cannot tell the launch line of %s(): %s" % (name, desc))
                for v in inner:
                    self.record_launch(f, text_of(v), v[1] if isinstance(v, tuple) else start)
            else:
                self.record_launch(f, v, start)

    def record_launch(self, f, text, line):
        before = {k: list(v) for k, v in self.fnd.uses.items()}
        use = "%s:%d" % (f.rel, line)
        elements_of_launch(launch_tokens(text), use, self.fnd, self.own)
        # point each element at the line that names it
        for (kind, name), uses in self.fnd.uses.items():
            if kind == "element" and use in uses and use not in before.get((kind, name), []):
                exact = "%s:%d" % (f.rel, refine_line(f.lines, line, name))
                uses[uses.index(use)] = exact
                uses[:] = list(dict.fromkeys(uses))

    # expression evaluation: a list of alternative strings with placeholders
    def eval(self, f, lo, hi, depth):
        toks = f.toks[lo:hi]
        if not toks or depth > 10:
            return []
        # (expr)
        if toks[0][1] == "(" and f.match_close(lo) == hi - 1:
            return self.eval(f, lo + 1, hi - 1, depth)
        # casts: (const gchar *) x
        if toks[0][1] == "(":
            c = f.match_close(lo)
            inner = [t for t in f.toks[lo + 1:c]]
            if inner and all(t[0] == "id" or t[1] in ("*", "::", "&") for t in inner) and c + 1 < hi:
                return self.eval(f, c + 1, hi, depth)
        # a ? b : c
        d, qpos = 0, None
        for j in range(lo, hi):
            k, v, _ = f.toks[j]
            if k == "op" and v in "([{":
                d += 1
            elif k == "op" and v in ")]}":
                d -= 1
            elif d == 0 and k == "op" and v == "?" and qpos is None:
                qpos = j
        if qpos is not None:
            d, nest = 0, 0
            for j in range(qpos + 1, hi):
                k, v, _ = f.toks[j]
                if k == "op" and v in "([{":
                    d += 1
                elif k == "op" and v in ")]}":
                    d -= 1
                elif d == 0 and v == "?":
                    nest += 1
                elif d == 0 and v == ":":
                    if nest == 0:
                        return self.eval(f, qpos + 1, j, depth) + self.eval(f, j + 1, hi, depth)
                    nest -= 1
        # a + b + ...
        d, parts, start = 0, [], lo
        for j in range(lo, hi):
            k, v, _ = f.toks[j]
            if k == "op" and v in "([{":
                d += 1
            elif k == "op" and v in ")]}":
                d -= 1
            elif d == 0 and k == "op" and v == "+":
                parts.append((start, j))
                start = j + 1
        parts.append((start, hi))
        if len(parts) > 1:
            return products([self.eval(f, a, b, depth) or [PHS.new(lambda dd: [], "?")] for a, b in parts])
        return self.operand(f, lo, hi, depth)

    def operand(self, f, lo, hi, depth):
        toks = f.toks[lo:hi]
        vals = [t[1] for t in toks]
        if len(toks) == 1 and toks[0][0] == "str":
            return [toks[0][1]]
        # x.c_str(), x.data()
        if len(vals) >= 4 and vals[-3] in ("c_str", "data") and vals[-4] in (".", "->") and vals[-2:] == ["(", ")"]:
            return self.eval(f, lo, hi - 4, depth)
        # std::string(x), g_strdup(x), std::string_view(x)
        if len(vals) >= 3 and vals[-1] == ")" and f.match_open(hi - 1) == lo + self.callee_len(vals) and \
                "".join(vals[:self.callee_len(vals)]) in ("std::string", "string", "g_strdup", "std::string_view",
                                                          "static_cast<constchar*>", "const_cast<char*>"):
            return self.eval(f, lo + self.callee_len(vals) + 1, hi - 1, depth)
        # g_strconcat(a, b, ..., NULL)
        if vals[:2] == ["g_strconcat", "("] and f.match_close(lo + 1) == hi - 1:
            args = [a for a in f.split_args(lo + 2, hi - 1)
                    if not (a[1] - a[0] == 1 and f.toks[a[0]][1] in ("NULL", "nullptr"))]
            return products([self.eval(f, a, b, depth) for a, b in args])
        # g_strdup_printf("fmt", args...)
        if vals[:2] == ["g_strdup_printf", "("] and f.match_close(lo + 1) == hi - 1:
            args = f.split_args(lo + 2, hi - 1)
            if args and f.toks[args[0][0]][0] == "str" and args[0][1] - args[0][0] == 1:
                fmt = f.toks[args[0][0]][1]
                rest = args[1:]
                pieces, k = [], 0
                for m in re.finditer(r"%%|%[-+ #0-9.*]*[a-zA-Z]+|[^%]+", fmt):
                    s = m.group(0)
                    if s == "%%":
                        pieces.append(["%"])
                    elif s.startswith("%"):
                        if s.endswith("s") and k < len(rest):
                            a, b = rest[k]
                            pieces.append(self.eval(f, a, b, depth))
                        else:
                            pieces.append([PHS.new(lambda dd: [], "a printf number")])
                        k += 1
                    else:
                        pieces.append([s])
                return products(pieces)
        # a variable (maybe qualified)
        if all(t[0] == "id" or t[1] == "::" for t in toks) and toks[-1][0] == "id":
            name = toks[-1][1]
            return [PHS.new(lambda dd, f=f, i=lo, n=name: self.resolve_var(f, i, n, dd), "the variable %s (%s)"
                            % (name, f.use(lo)))]
        # p.field / p->field
        if len(toks) == 3 and toks[0][0] == "id" and vals[1] in (".", "->") and toks[2][0] == "id":
            return [PHS.new(lambda dd, f=f, i=lo: self.resolve_member(f, i, dd), "%s%s%s (%s)"
                            % (vals[0], vals[1], vals[2], f.use(lo)))]
        text = " ".join(vals)
        return [PHS.new(lambda dd: [], "the expression `%s` (%s)" % (text, f.use(lo)))]

    @staticmethod
    def callee_len(vals):
        """Tokens of a callee like std :: string or static_cast < const char * >."""
        if vals[:3] == ["std", "::", "string"] or vals[:3] == ["std", "::", "string_view"]:
            return 3
        if vals and vals[0] in ("static_cast", "const_cast") and ">" in vals:
            return vals.index(">") + 1
        return 1

    def resolve_var(self, f, i, name, depth):
        """Values of variable NAME seen at token i: its assignments in the
        function, a range-for over a list, the arguments of the callers when
        it is a parameter, or a global/#define."""
        out = []
        func = f.func_at(i)
        lo, hi = (func["start"], func["end"]) if func else (0, len(f.toks))
        # assignments (and initialisations) in the function, before the use
        for j in range(lo, min(i, hi)):
            if f.toks[j][0] == "id" and f.toks[j][1] == name and f.tv(j + 1) == "=" \
                    and f.tv(j - 1) not in (".", "->", "::"):
                end = self.expr_end(f, j + 2)
                out += [(v, f.toks[j][2]) for v in self.eval(f, j + 2, end, depth + 1)]
            # for (... name : list)
            if f.toks[j][0] == "id" and f.toks[j][1] == name and f.tv(j + 1) == ":" and f.tv(j + 2) != ":":
                out += self.range_values(f, j + 2, depth)
        if not out and func:
            if name in func["params"]:
                k = func["params"].index(name)
                # callers: anywhere for a function in a header, else in its own file
                in_header = f.rel.endswith((".h", ".hh", ".hpp"))
                for cf, ci in self.calls.get(func["name"], []):
                    if not in_header and cf is not f:
                        continue
                    args = self.args_of(cf, ci)
                    if k < len(args):
                        a, b = args[k]
                        out += [(v, cf.toks[a][2]) for v in self.eval(cf, a, b, depth + 1)]
        if not out:
            for g in self.files:
                if name in g.defines:
                    out.append(g.defines[name])
                for j, t in enumerate(g.toks):
                    if t[0] == "id" and t[1] == name and g.tv(j + 1) == "=" and g.func_at(j) is None:
                        end = self.expr_end(g, j + 2)
                        out += [(v, t[2]) for v in self.eval(g, j + 2, end, depth + 1)]
        return out

    @staticmethod
    def expr_end(f, j):
        d = 0
        while j < len(f.toks):
            k, v, _ = f.toks[j]
            if k == "op" and v in "([{":
                d += 1
            elif k == "op" and v in ")]}":
                if d == 0:
                    return j
                d -= 1
            elif k == "op" and v in (";", ",") and d == 0:
                return j
            j += 1
        return j

    def range_values(self, f, j, depth):
        """Values of the list a range-for at token j iterates over."""
        if f.tv(j) == "{":
            c = f.match_close(j)
            return [(t[1], t[2]) for t in f.toks[j:c] if t[0] == "str"]
        if f.toks[j][0] == "id":
            arr = f.toks[j][1]
            for g in [f] + [x for x in self.files if x is not f]:
                for k, t in enumerate(g.toks):
                    if t[0] == "id" and t[1] == arr:
                        n = k + 1
                        while g.tv(n) == "[":
                            n = g.match_close(n) + 1
                        if g.tv(n) == "=" and g.tv(n + 1) == "{":
                            c = g.match_close(n + 1)
                            return [(x[1], x[2]) for x in g.toks[n + 1:c] if x[0] == "str"]
        return []

    def resolve_member(self, f, i, depth):
        """p.factory where p runs over an array: every string of the array's
        initialiser."""
        var = f.toks[i][1]
        func = f.func_at(i)
        lo = func["start"] if func else 0
        for j in range(i - 1, lo - 1, -1):
            if f.toks[j][0] == "id" and f.toks[j][1] == var and f.tv(j + 1) == ":" and f.tv(j + 2) != ":":
                return self.range_values(f, j + 2, depth)
        return []


# --- shell -------------------------------------------------------------------

class SWord:
    __slots__ = ("text", "line", "exp", "var", "quoted")

    def __init__(self, text, line, exp, var, quoted):
        self.text, self.line, self.exp, self.var, self.quoted = text, line, exp, var, quoted

    def __repr__(self):
        return "SWord(%r)" % self.text


class STok:
    __slots__ = ("kind", "value", "line", "word", "heredoc")

    def __init__(self, kind, value, line, word=None):
        self.kind, self.value, self.line, self.word, self.heredoc = kind, value, line, word, None


SHELL_OPS = ["<<<", "<<-", ";;&", "&&", "||", ";;", ";&", ">>", "<<", ">&", "<&", "&>", ">|", "|&",
             "|", "&", ";", "(", ")", "<", ">"]
REDIRECTIONS = {"<<<", "<<-", "<<", ">>", ">&", "<&", "&>", ">|", "<", ">"}


def skip_quoted(text, i):
    """From a quote at i, the index after its closing quote."""
    q = text[i]
    j = i + 1
    while j < len(text):
        if text[j] == "\\" and q == '"':
            j += 2
            continue
        if text[j] == q:
            return j + 1
        j += 1
    return j


def match_paren(text, i):
    """From '(' at i, the index of the matching ')'."""
    depth, j = 0, i
    while j < len(text):
        c = text[j]
        if c in "'\"":
            j = skip_quoted(text, j)
            continue
        if c == "\\":
            j += 2
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return len(text) - 1


class ShellLexer:
    def __init__(self, text, line0=1):
        self.text = text
        self.line0 = line0
        self.nested = []   # (text, line) of command substitutions and trap strings

    def lex(self):
        text, n = self.text, len(self.text)
        toks = []
        i, line = 0, self.line0
        w = None   # current word: dict
        pending = []  # heredocs awaiting their bodies

        def start():
            nonlocal w
            if w is None:
                w = {"text": "", "line": line, "exp": False, "lit": 0, "vars": [], "quoted": False}

        def add(s, lit=True):
            start()
            w["text"] += s
            if lit:
                w["lit"] += len(s)

        def end():
            nonlocal w
            if w is not None:
                var = w["vars"][0] if len(w["vars"]) == 1 and w["lit"] == 0 else None
                toks.append(STok("word", w["text"], w["line"],
                                 SWord(w["text"], w["line"], w["exp"], var, w["quoted"])))
                w = None

        def dollar(i, line):
            """$... at i: appends it to the word, returns (i, line) after it."""
            start()
            prev_exp = w["exp"]
            w["exp"] = True
            nxt = text[i + 1:i + 2]
            if text.startswith("$((", i):
                j = match_paren(text, i + 1)
                w["text"] += text[i:j + 1]
                w["vars"].append(None)
                return j + 1, line + text.count("\n", i, j)
            if nxt == "(":
                j = match_paren(text, i + 1)
                self.nested.append((text[i + 2:j], line))
                w["text"] += text[i:j + 1]
                w["vars"].append(None)
                return j + 1, line + text.count("\n", i, j)
            if nxt == "{":
                j = text.find("}", i)
                j = n - 1 if j < 0 else j
                inner = text[i + 2:j]
                m = re.fullmatch(r"([A-Za-z_]\w*|\d+)", inner)
                w["vars"].append(m.group(1) if m else None)
                w["text"] += text[i:j + 1]
                return j + 1, line
            m = re.match(r"\$([A-Za-z_]\w*|\d|[@*#?$!-])", text[i:])
            if m:
                w["vars"].append(m.group(1))
                w["text"] += m.group(0)
                return i + len(m.group(0)), line
            w["text"] += "$"
            w["lit"] += 1
            w["exp"] = prev_exp
            return i + 1, line

        while i < n:
            c = text[i]
            if c == "\\":
                if text[i + 1:i + 2] == "\n":
                    i += 2
                    line += 1
                    continue
                add(text[i + 1:i + 2])
                w["quoted"] = True
                i += 2
                continue
            if c == "\n":
                end()
                toks.append(STok("nl", "\n", line))
                i += 1
                line += 1
                while pending:
                    delim, strip, optok = pending.pop(0)
                    body, body_line = [], line
                    while i < n:
                        j = text.find("\n", i)
                        j = n if j < 0 else j
                        raw = text[i:j]
                        i = j + 1
                        line += 1
                        if (raw.lstrip("\t") if strip else raw) == delim:
                            break
                        body.append(raw)
                    optok.heredoc = (delim, "\n".join(body), body_line)
                continue
            if c in " \t\r":
                end()
                i += 1
                continue
            if c == "#" and w is None:
                j = text.find("\n", i)
                i = n if j < 0 else j
                continue
            if c == "'":
                j = skip_quoted(text, i)
                add(text[i + 1:j - 1])
                w["quoted"] = True
                line += text.count("\n", i, j)
                i = j
                continue
            if c == "$" and text[i + 1:i + 2] == "'":
                j = i + 2
                while j < n and text[j] != "'":
                    j += 2 if text[j] == "\\" else 1
                add(c_unescape(text[i + 2:j]))
                w["quoted"] = True
                i = j + 1
                continue
            if c == '"':
                start()
                w["quoted"] = True
                j = i + 1
                while j < n and text[j] != '"':
                    if text[j] == "\\" and j + 1 < n:
                        if text[j + 1] in '$`"\\':
                            add(text[j + 1])
                        elif text[j + 1] != "\n":
                            add(text[j:j + 2])
                        else:
                            line += 1
                        j += 2
                        continue
                    if text[j] == "$":
                        j, line = dollar(j, line)
                        continue
                    if text[j] == "`":
                        k = text.find("`", j + 1)
                        k = n - 1 if k < 0 else k
                        self.nested.append((text[j + 1:k], line))
                        w["text"] += text[j:k + 1]
                        w["exp"] = True
                        w["vars"].append(None)
                        j = k + 1
                        continue
                    if text[j] == "\n":
                        line += 1
                    add(text[j])
                    j += 1
                i = j + 1
                continue
            if c == "$":
                i, line = dollar(i, line)
                continue
            if c == "`":
                k = text.find("`", i + 1)
                k = n - 1 if k < 0 else k
                self.nested.append((text[i + 1:k], line))
                start()
                w["text"] += text[i:k + 1]
                w["exp"] = True
                w["vars"].append(None)
                i = k + 1
                continue
            if c == "(" and w is not None and w["text"].endswith("="):
                # name=(array literal)
                j = match_paren(text, i)
                w["text"] += text[i:j + 1]
                line += text.count("\n", i, j)
                i = j + 1
                continue
            if c == "(" and w is None and text[i + 1:i + 2] == "(":
                # (( arithmetic ))
                j = match_paren(text, i)
                line += text.count("\n", i, j)
                i = j + 1
                continue
            if c in "|&;()<>":
                if w is not None and c in "<>" and (re.fullmatch(r"\d+", w["text"]) or
                                                     re.fullmatch(r"\{\w+\}", w["text"])):
                    w = None  # a file descriptor number: part of the redirection
                end()
                op = next(o for o in SHELL_OPS if text.startswith(o, i))
                tok = STok("op", op, line)
                toks.append(tok)
                i += len(op)
                if op in ("<<", "<<-"):
                    while i < n and text[i] in " \t":
                        i += 1
                    m = re.match(r"""(['"]?)([^\s'";&|<>()]+)\1""", text[i:])
                    if m:
                        pending.append((m.group(2), op == "<<-", tok))
                        i += len(m.group(0))
                continue
            add(c)
            i += 1
        end()
        return toks


class SCommand:
    def __init__(self, words, line, func, heredocs):
        self.words, self.line, self.func, self.heredocs = words, line, func, heredocs


def shell_commands(toks):
    cmds = []
    cur, heredocs = [], []
    redirect = False
    case_stack = []
    func_stack = []   # (name, depth)
    depth = 0
    pending_func = None
    k = 0

    def finish():
        nonlocal cur, heredocs
        words = cur
        if words or heredocs:
            cmds.append(SCommand(words, words[0].line if words else 0,
                                 func_stack[-1][0] if func_stack else None, heredocs))
        cur, heredocs = [], []

    while k < len(toks):
        t = toks[k]
        k += 1
        if t.kind == "op":
            if t.value in ("<<", "<<-"):
                if t.heredoc:
                    heredocs.append(t.heredoc)
                continue   # the lexer took the delimiter word
            if t.value in REDIRECTIONS:
                redirect = True
                continue
            if case_stack and case_stack[-1] == "pattern" and t.value in ("|", "("):
                continue   # pat1|pat2) and (pat)
            if t.value == "(" and len(cur) == 1 and k < len(toks) and toks[k].kind == "op" and toks[k].value == ")" \
                    and re.fullmatch(r"[\w:.-]+", cur[0].text):
                pending_func = cur[0].text
                cur = []
                k += 1
                continue
            if t.value == ")" and case_stack and case_stack[-1] == "pattern":
                cur = []
                case_stack[-1] = "body"
                continue
            if t.value in (";;", ";&", ";;&") and case_stack:
                finish()
                case_stack[-1] = "pattern"
                continue
            finish()
            continue
        if t.kind == "nl":
            if case_stack and case_stack[-1] == "pattern":
                cur = []
                continue
            finish()
            continue
        word = t.word
        if redirect:
            redirect = False
            continue
        if case_stack and case_stack[-1] == "pattern":
            if word.text == "esac" and not cur:
                case_stack.pop()
            else:
                cur.append(word)
            continue
        if not cur and not word.quoted:
            if word.text == "{":
                depth += 1
                if pending_func:
                    func_stack.append((pending_func, depth))
                    pending_func = None
                continue
            if word.text == "}":
                if func_stack and func_stack[-1][1] == depth:
                    func_stack.pop()
                depth -= 1
                continue
            if word.text == "esac" and case_stack:
                case_stack.pop()
                continue
        if word.text == "in" and len(cur) == 2 and cur[0].text == "case":
            case_stack.append("pattern")
            cur = []
            continue
        if len(cur) == 1 and cur[0].text == "function" and not word.exp:
            pending_func = word.text
            cur = []
            continue
        cur.append(word)
    finish()
    return cmds


ASSIGN = re.compile(r"^([A-Za-z_]\w*)(\[[^]]*\])?\+?=(.*)$", re.S)


class ShellFile:
    def __init__(self, rel, text, line0=1, parent=None):
        self.rel = rel
        self.lines = text.splitlines() if parent is None else parent.lines
        lexer = ShellLexer(text, line0)
        toks = lexer.lex()
        self.cmds = shell_commands(toks)
        for sub, line in lexer.nested:
            self.cmds += ShellFile(rel, sub, line, self).cmds
        self.functions = set()
        self.assigns = {}   # name -> [SWord]
        self.calls = {}     # function -> [(args, SCommand)]


class ShellScanner:
    def __init__(self, root, fnd, own, scanner):
        self.root = root
        self.fnd = fnd
        self.own = own
        self.scanner = scanner     # the main Scanner, for Python heredocs and followed scripts
        self.functions = set()

    def strip_prefix(self, sf, words):
        """Drops assignments and prefixes (if, exec, timeout 30, env X=1, a
        variable holding sudo...). -> the words from the command on."""
        words = list(words)
        while words:
            w0 = words[0]
            m = ASSIGN.match(w0.text)
            if m and not w0.text.startswith("=") and not (w0.quoted and w0.text.index("=") == 0):
                sf.assigns.setdefault(m.group(1), []).append(SWord(m.group(3), w0.line, w0.exp, None, w0.quoted))
                words.pop(0)
                continue
            if not w0.quoted and w0.text in SHELL_PREFIX_WORDS:
                words.pop(0)
                continue
            if w0.text in SHELL_DECLARE:
                for w in words[1:]:
                    m = ASSIGN.match(w.text)
                    if m:
                        sf.assigns.setdefault(m.group(1), []).append(
                            SWord(m.group(3), w.line, w.exp, None, w.quoted))
                return []
            if w0.text == "timeout":
                words.pop(0)
                while words and words[0].text.startswith("-"):
                    opt = words.pop(0).text
                    if opt in ("-s", "-k", "--signal", "--kill-after") and words:
                        words.pop(0)
                if words:
                    words.pop(0)  # the duration
                continue
            if w0.text == "env":
                words.pop(0)
                while words and (words[0].text.startswith("-") or ASSIGN.match(words[0].text)):
                    words.pop(0)
                continue
            if w0.text in ("nice", "xargs", "stdbuf", "setsid"):
                self.fnd.add("program", w0.text, "%s:%d" % (sf.rel, w0.line))
                words.pop(0)
                while words and words[0].text.startswith("-"):
                    words.pop(0)
                continue
            if w0.var and w0.text.startswith("$") and w0.var in sf.assigns:
                # $sudo apt-get ...: a variable that is empty or a prefix command
                vals = {v.text for v in sf.assigns[w0.var]}
                if vals <= {"", "sudo", "command", "exec", "env"}:
                    words.pop(0)
                    continue
            break
        return words

    def scan_file(self, sf, executed_by=None):
        # first pass: functions and assignments, for later resolution
        for c in sf.cmds:
            if c.func:
                sf.functions.add(c.func)
                self.functions.add(c.func)
        for c in sf.cmds:
            words = self.strip_prefix(sf, c.words)
            if words:
                sf.calls.setdefault(words[0].text, []).append((words[1:], c))
        for c in sf.cmds:
            self.command(sf, c, self.strip_prefix(sf, c.words))

    def command(self, sf, c, words):
        for delim, body, line in c.heredocs:
            prog = words[0].text if words else ""
            if re.match(r"(.*/)?python3?(\.\d+)?$", prog) or "PY" in delim.upper():
                self.scanner.python_source(sf.rel, body, line)
        if not words:
            return
        w0 = words[0]
        use = "%s:%d" % (sf.rel, w0.line)
        name = w0.text
        if w0.exp or w0.text in self.functions or w0.text in sf.functions:
            return
        if not w0.quoted and name in ("for", "select", "case", "function", "fi", "done", "esac", "}"):
            return
        if name == "command":
            if len(words) >= 3 and words[1].text in ("-v", "-V") and not words[2].exp:
                self.program(words[2].text, use, sf)
            elif len(words) >= 2:
                self.command(sf, c, words[1:])
            return
        if (name in ("trap", "eval") and len(words) > 1) or \
                (name in ("bash", "sh") and len(words) > 2 and words[1].text == "-c"):
            arg = words[2] if name in ("bash", "sh") else words[1]
            if name in ("bash", "sh"):
                self.program(name, use, sf)
            if not arg.var:
                sub = ShellFile(sf.rel, arg.text, arg.line, sf)
                for sc in sub.cmds:
                    self.command(sf, sc, self.strip_prefix(sf, sc.words))
            return
        if name in SHELL_BUILTINS:
            return
        self.program(name, use, sf)
        base = os.path.basename(name)
        if base == "script":
            for k, w in enumerate(words[1:], 1):
                if w.text in ("-c", "--command") or re.fullmatch(r"-[a-zA-Z]*c", w.text):
                    if k + 1 < len(words) and not words[k + 1].var:
                        sub = ShellFile(sf.rel, words[k + 1].text, words[k + 1].line, sf)
                        for sc in sub.cmds:
                            self.command(sf, sc, self.strip_prefix(sf, sc.words))
                    break
        if re.match(r"python3?(\.\d+)?$", base) and len(words) > 2 and words[1].text == "-c" and not words[2].var:
            self.scanner.python_source(sf.rel, words[2].text, words[2].line)
        if base == "valgrind":
            rest = words[1:]
            while rest and rest[0].text.startswith("-"):
                rest.pop(0)
            if rest:
                self.command(sf, c, rest)
        if base == "gst-launch-1.0":
            self.gst_launch(sf, c, words[1:])

    def program(self, name, use, sf):
        if "/" in name and not name.startswith("/"):
            # a script of the project's own (tests/..., build/...): follow it
            return self.scanner.follow(sf, name)
        if name.startswith("/") or (PROGRAM_WORD.match(name) and not name.isdigit()):
            if name not in SHELL_BUILTINS:
                self.fnd.add("program", name, use)

    def gst_launch(self, sf, c, words):
        args = list(words)
        while args and args[0].text.startswith("-") and not args[0].quoted:
            args.pop(0)
        tokens = []
        for w in args:
            if w.var and not w.text.startswith("$("):
                tokens.append(PHS.new(lambda d, sf=sf, w=w, c=c: self.resolve(sf, w, c, d),
                                      "the shell variable %s" % w.text))
            else:
                tokens.append(w.text)
        use = "%s:%d" % (sf.rel, c.line)
        before = {k: list(v) for k, v in self.fnd.uses.items()}
        elements_of_launch(tokens, use, self.fnd, self.own)
        for (kind, name), uses in self.fnd.uses.items():
            if kind == "element" and use in uses and use not in before.get((kind, name), []):
                uses[uses.index(use)] = "%s:%d" % (sf.rel, refine_line(sf.lines, c.line, name))
                uses[:] = list(dict.fromkeys(uses))

    def resolve(self, sf, w, c, depth):
        """The values a shell variable may have where W stands."""
        out = []
        if depth > 6:
            return out
        if w.var.isdigit():
            n = int(w.var)
            for args, call in sf.calls.get(c.func or "", []):
                if n - 1 < len(args):
                    a = args[n - 1]
                    if a.var:
                        out += self.resolve(sf, a, call, depth + 1)
                    elif not a.exp:
                        out.append(a.text)
        else:
            for v in sf.assigns.get(w.var, []):
                if not v.exp:
                    out.append(v.text)
                elif v.var:
                    out += self.resolve(sf, v, c, depth + 1)
        return out


# --- Python --------------------------------------------------------------------

def dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class PythonScanner:
    def __init__(self, fnd, own):
        self.fnd = fnd
        self.own = own

    def scan(self, rel, src, line0=1, local_dir=None):
        try:
            tree = ast.parse(src)
        except SyntaxError as e:
            self.fnd.problem("%s:%d" % (rel, line0), "cannot parse Python: %s" % e)
            return
        self.tree = tree
        off = line0 - 1
        namespaces = {}
        for node in ast.walk(tree):
            use = "%s:%d" % (rel, getattr(node, "lineno", 1) + off)
            if isinstance(node, ast.Import):
                for a in node.names:
                    self.module(a.name.split(".")[0], use, local_dir)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                top = node.module.split(".")[0]
                self.module(top, use, local_dir)
                if node.module == "gi.repository":
                    for a in node.names:
                        namespaces.setdefault(a.name, [None, use])
            elif isinstance(node, ast.Call):
                name = dotted(node.func) or ""
                if name.endswith("require_version") and len(node.args) >= 2 and \
                        all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args[:2]):
                    namespaces[node.args[0].value] = [node.args[1].value, use]
                for suffix, (idx, what) in PY_CALLS.items():
                    if (name == suffix or name.endswith("." + suffix)) and idx < len(node.args):
                        vals = self.eval(node.args[idx], 0)
                        if what == "factory":
                            element_names(vals, "%s() argument" % name, use, self.fnd, self.own)
                        else:
                            for v in vals:
                                elements_of_launch(launch_tokens(v), use, self.fnd, self.own)
                if name.split(".")[-1] in PY_SUBPROCESS and node.args:
                    # subprocess.run(["prog", ...]) and helpers named like it
                    a = node.args[0]
                    while isinstance(a, ast.BinOp) and isinstance(a.op, ast.Add):
                        a = a.left   # ["prog", "-x"] + more
                    if isinstance(a, (ast.List, ast.Tuple)) and a.elts:
                        for prog in self.eval(a.elts[0], 0):
                            if isinstance(prog, str) and not PH.search(prog) and \
                                    (prog.startswith("/") or PROGRAM_WORD.match(prog)):
                                self.fnd.add("program", prog, use)
        for ns, (ver, use) in namespaces.items():
            self.fnd.add("typelib", "%s-%s" % (ns, ver) if ver else ns, use)

    def module(self, top, use, local_dir):
        if top in sys.stdlib_module_names or top == "__future__":
            return
        if local_dir and (os.path.exists(os.path.join(local_dir, top + ".py")) or
                          os.path.isdir(os.path.join(local_dir, top))):
            return
        self.fnd.add("python module", top, use)

    def eval(self, node, depth):
        if depth > 8:
            return []
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.JoinedStr):
            parts = []
            for v in node.values:
                if isinstance(v, ast.Constant):
                    parts.append([str(v.value)])
                else:
                    parts.append(self.eval(v.value, depth + 1) or
                                 [PHS.new(lambda d: [], "an f-string value")])
            return products(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return products([self.eval(node.left, depth + 1) or [PHS.new(lambda d: [], "?")],
                             self.eval(node.right, depth + 1) or [PHS.new(lambda d: [], "?")]])
        if isinstance(node, ast.IfExp):
            return self.eval(node.body, depth + 1) + self.eval(node.orelse, depth + 1)
        if isinstance(node, ast.Name):
            name = node.id
            return [PHS.new(lambda d, n=name, tree=self.tree: self.resolve(n, d, tree), "the variable %s" % name)]
        return [PHS.new(lambda d: [], "a Python expression (line %d)" % getattr(node, "lineno", 0))]

    def resolve(self, name, depth, tree):
        out = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Name) and t.id == name:
                        out += self.eval(node.value, depth + 1)
            elif isinstance(node, ast.For) and isinstance(node.target, ast.Name) and node.target.id == name \
                    and isinstance(node.iter, (ast.Tuple, ast.List)):
                for e in node.iter.elts:
                    out += self.eval(e, depth + 1)
        return out


# --- the scan ------------------------------------------------------------------

def own_elements(root):
    own = set()
    for dirpath, _, files in os.walk(os.path.join(root, "gst")):
        for fn in files:
            if fn.endswith((".c", ".cpp", ".cc", ".h")):
                text = open(os.path.join(dirpath, fn), encoding="utf-8", errors="replace").read()
                own.update(re.findall(r'GST_ELEMENT_REGISTER_DEFINE(?:_WITH_CODE|_CUSTOM)?\s*\(\s*\w+\s*,\s*"([^"]+)"',
                                      text))
                own.update(re.findall(r'gst_element_register\s*\([^,]+,\s*"([^"]+)"', text))
    return own


def shebang(path):
    try:
        with open(path, "rb") as f:
            first = f.readline(200).decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    parts = first[2:].split()
    if not parts:
        return None
    if os.path.basename(parts[0]) == "env" and len(parts) > 1:
        return parts[1]
    return parts[0]


class Scanner:
    CXX_EXT = (".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp")

    def __init__(self, root):
        self.root = root
        self.fnd = Findings()
        self.own = own_elements(root)
        self.py = PythonScanner(self.fnd, self.own)
        self.sh = ShellScanner(root, self.fnd, self.own, self)
        self.scanned = set()
        self.shell_files = []
        self.skipped = []

    def rel(self, path):
        return os.path.relpath(path, self.root)

    def files_under(self, sub, pred, recursive=True):
        base = os.path.join(self.root, sub)
        out = []
        for dirpath, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and recursive)
            for fn in sorted(files):
                p = os.path.join(dirpath, fn)
                if pred(p):
                    out.append(p)
        return out

    def is_shell(self, p):
        if p.endswith(".sh"):
            return True
        interp = shebang(p)
        return bool(interp) and os.path.basename(interp) in ("sh", "bash", "dash")

    def is_python(self, p):
        if p.endswith(".py"):
            return True
        interp = shebang(p)
        return bool(interp) and os.path.basename(interp).startswith("python")

    def interpreter(self, p):
        interp = shebang(p)
        if interp and os.access(p, os.X_OK):
            self.fnd.add("program", interp, "%s:1" % self.rel(p))

    def scan(self):
        fixtures = os.path.join(self.root, "tests", "fixtures")
        not_fixture = (lambda p: not p.startswith(fixtures + os.sep))
        shell = (self.files_under("scripts", self.is_shell, False) +
                 [p for sub in ("tests", "examples", "tools", "docs")
                  for p in self.files_under(sub, self.is_shell) if not_fixture(p)])
        python = (self.files_under("scripts", self.is_python, False) +
                  [p for sub in ("tests", "examples", "tools", "docs")
                   for p in self.files_under(sub, self.is_python) if not_fixture(p)])
        cxx = [p for sub in ("tests", "examples", "tools", "gst", "src")
               for p in self.files_under(sub, lambda p: p.endswith(self.CXX_EXT))]
        meson = [p for p in [os.path.join(self.root, "meson.build")] +
                 [p for sub in ("src", "gst", "tools", "examples", "tests", "docs")
                  for p in self.files_under(sub, lambda p: os.path.basename(p) == "meson.build")]
                 if os.path.exists(p)]
        parsed = [self.parse_shell(p) for p in shell]
        for sf, p in parsed:
            self.sh.scan_file(sf)
        for p in python:
            self.python_file(p)
        cfiles = []
        for p in cxx:
            cfiles.append(CxxFile(self.rel(p), open(p, encoding="utf-8", errors="replace").read()))
        CxxScanner(cfiles, self.fnd, self.own).scan()
        for p in meson:
            self.meson_file(p)
        for p in self.files_under("tests/fixtures", self.is_shell) if os.path.isdir(fixtures) else []:
            if p not in self.scanned:
                self.skipped.append(self.rel(p))
        self.counts = {"shell": len(self.shell_files), "python": len(python), "c/c++": len(cfiles),
                       "meson": len(meson)}
        return self.fnd

    def parse_shell(self, p):
        self.scanned.add(p)
        self.shell_files.append(p)
        sf = ShellFile(self.rel(p), open(p, encoding="utf-8", errors="replace").read())
        self.interpreter(p)
        for c in sf.cmds:
            if c.func:
                self.sh.functions.add(c.func)
        return sf, p

    def shell_file(self, p):
        if p in self.scanned:
            return
        sf, _ = self.parse_shell(p)
        self.sh.scan_file(sf)

    def python_file(self, p):
        if p in self.scanned:
            return
        self.scanned.add(p)
        self.interpreter(p)
        self.py.scan(self.rel(p), open(p, encoding="utf-8", errors="replace").read(), 1, os.path.dirname(p))

    def python_source(self, rel, src, line0):
        self.py.scan(rel, src, line0)

    def follow(self, sf, name):
        """A command that is a relative path: a script of the project's own,
        scanned too (e.g. tests/fixtures/make-fixture.sh if a script ran it)."""
        for base in (self.root, os.path.dirname(os.path.join(self.root, sf.rel))):
            p = os.path.normpath(os.path.join(base, name))
            if os.path.isfile(p) and p.startswith(self.root + os.sep):
                if self.is_shell(p):
                    self.shell_file(p)
                elif self.is_python(p):
                    self.python_file(p)
                return

    def meson_file(self, p):
        rel = self.rel(p)
        text = open(p, encoding="utf-8", errors="replace").read()
        code = re.sub(r"#[^\n]*", "", text)  # meson comments (no # in these strings)
        for m in re.finditer(r"\b(find_program|run_command)\s*\(\s*'([^']+)'", code):
            line = code.count("\n", 0, m.start()) + 1
            use = "%s:%d" % (rel, line)
            name = m.group(2)
            local = os.path.join(os.path.dirname(p), name)
            if os.path.isfile(local):
                if self.is_shell(local):
                    self.shell_file(local)
                elif self.is_python(local):
                    self.python_file(local)
                self.interpreter(local)
            elif PROGRAM_WORD.match(name):
                self.fnd.add("program", name, use)


# --- what the machine says -------------------------------------------------------

PROBE = r"""
import importlib, importlib.util, json, sys
req = json.load(sys.stdin)
out = {"elements": {}, "modules": {}, "typelibs": {}, "errors": []}
try:
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)
    for e in req["elements"]:
        f = Gst.ElementFactory.find(e)
        p = f.get_plugin() if f else None
        out["elements"][e] = {"plugin": p.get_name(), "file": p.get_filename()} if p else None
except Exception as ex:
    out["errors"].append("GStreamer through gi: %s" % ex)
    out["elements"] = None
for m in req["modules"]:
    try:
        spec = importlib.util.find_spec(m)
        out["modules"][m] = spec.origin if spec else None
    except Exception:
        out["modules"][m] = None
for name in req["typelibs"]:
    ns, _, ver = name.partition("-")
    try:
        import gi
        if ver:
            gi.require_version(ns, ver)
        importlib.import_module("gi.repository." + ns)
        repo = gi.Repository.get_default()
        todo, seen = [ns], {}
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen[n] = repo.get_typelib_path(n)
            for d in repo.get_dependencies(n) or []:
                todo.append(d.split("-")[0])
        out["typelibs"][name] = seen
    except Exception as ex:
        out["typelibs"][name] = None
        out["errors"].append("typelib %s: %s" % (name, ex))
print(json.dumps(out))
"""


def gst_env(args):
    env = dict(os.environ)
    for k in ("GST_PLUGIN_PATH", "GST_PLUGIN_PATH_1_0", "GST_PLUGIN_SYSTEM_PATH", "GST_PLUGIN_SYSTEM_PATH_1_0",
              "GST_REGISTRY", "GST_REGISTRY_1_0"):
        env.pop(k, None)
    env["GST_PLUGIN_PATH_1_0"] = ""   # no uninstalled or hand-added plugins
    if args.plugin_dir:
        env["GST_PLUGIN_SYSTEM_PATH_1_0"] = args.plugin_dir
    env["GST_REGISTRY_1_0"] = args.registry
    env["GST_REGISTRY_FORK"] = env.get("GST_REGISTRY_FORK", "yes")
    return env


def probe(args, elements, modules, typelibs):
    req = {"elements": sorted(elements), "modules": sorted(modules), "typelibs": sorted(typelibs)}
    out = None
    if os.access(DEBIAN_PYTHON, os.X_OK):
        r = run([DEBIAN_PYTHON, "-c", PROBE], input=json.dumps(req), env=gst_env(args))
        if r.returncode == 0:
            out = json.loads(r.stdout)
        else:
            out = {"elements": None, "modules": {}, "typelibs": {}, "errors": [r.stderr.strip()[-500:]]}
    else:
        out = {"elements": None, "modules": {m: None for m in modules},
               "typelibs": {t: None for t in typelibs}, "errors": ["no %s" % DEBIAN_PYTHON]}
    if out["elements"] is None:
        # without gi: gst-inspect-1.0, one element at a time
        out["elements"] = {}
        inspect = shutil.which("gst-inspect-1.0", path=":".join(DEBIAN_BIN_DIRS))
        for e in elements:
            if not inspect:
                out["elements"][e] = None
                continue
            r = run([inspect, e], env=gst_env(args))
            m = re.search(r"^\s*Filename\s+(\S+)", r.stdout, re.M)
            n = re.search(r"^\s*Name\s+(\S+)", r.stdout[r.stdout.find("Plugin Details"):], re.M)
            out["elements"][e] = {"file": m.group(1), "plugin": n.group(1) if n else "?"} \
                if r.returncode == 0 and m else None
    return out


def path_variants(p):
    out = [p]
    for a, b in (("/usr/lib/", "/lib/"), ("/usr/bin/", "/bin/"), ("/usr/sbin/", "/sbin/"),
                 ("/usr/lib64/", "/lib64/")):
        if p.startswith(a):
            out.append(b + p[len(a):])
        elif p.startswith(b):
            out.append(a + p[len(b):])
    real = os.path.realpath(p)
    if real != p:
        out += path_variants(real) if real not in out else []
    return list(dict.fromkeys(out))


def owners(paths):
    """path -> set of Debian packages owning it (dpkg -S), trying /lib and
    /usr/lib (the same place on Debian 12) and the symlink's target."""
    variants = {p: path_variants(p) for p in paths}
    allv = sorted({v for vs in variants.values() for v in vs})
    owned = {}
    if allv:
        r = run(["dpkg-query", "-S"] + allv)
        for line in r.stdout.splitlines():
            if line.startswith("diversion by"):
                continue
            pk, sep, path = line.partition(": ")
            if not sep:
                continue
            for pkg in pk.split(", "):
                owned.setdefault(path.strip(), set()).add(pkg.split(":")[0])
    out = {}
    for p, vs in variants.items():
        s = set()
        for v in vs:
            if v in owned:
                s |= owned[v]
                break
        out[p] = s
    return out


def read_packages(lib_sh):
    r = run(["bash", "-c", 'source "$1" >/dev/null && printf "%s\\n" "${PT_PACKAGES[@]}"', "_", lib_sh])
    if r.returncode != 0:
        raise SystemExit("check-packages: cannot read PT_PACKAGES from %s: %s" % (lib_sh, r.stderr.strip()))
    return [p for p in r.stdout.split() if p and not p.startswith("#")]


def apt_graph(pkgs):
    r = run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
             "--no-breaks", "--no-replaces", "--no-enhances"] + pkgs)
    if r.returncode != 0:
        raise SystemExit("check-packages: apt-cache depends failed: %s" % r.stderr.strip())

    def norm(s):
        return s.strip().strip("<>").split(":")[0]

    graph, cur, last, pending_or = {}, None, None, False
    for line in r.stdout.splitlines():
        if not line.startswith(" "):
            cur = norm(line)
            graph.setdefault(cur, [])
            last, pending_or = None, False
            continue
        m = re.match(r"^ ([ |])(?:Pre)?Depends: (.+)$", line)
        if m and cur is not None:
            target = m.group(2).strip()
            alt = [norm(target), [] if target.startswith("<") else None]
            if pending_or and graph[cur]:
                graph[cur][-1].append(alt)
            else:
                graph[cur].append([alt])
            pending_or = m.group(1) == "|"
            last = alt
            continue
        m = re.match(r"^    (\S+)$", line)
        if m and last is not None and last[1] is not None:
            last[1].append(norm(m.group(1)))
    return graph


def closure(listed, graph):
    """pkg -> the package that pulls it in (None for a listed one)."""
    via = {p: None for p in listed}
    todo = list(listed)
    while todo:
        p = todo.pop()
        for group in graph.get(p, []):
            name, providers = group[0]   # apt's choice on a fresh machine: the first alternative
            targets = [name] if providers is None else (providers if len(providers) == 1 else [])
            for t in targets:
                if t not in via:
                    via[t] = p
                    todo.append(t)
    return via


def base_system(pkgs):
    """The packages of every Debian system: Essential: yes or Priority: required."""
    if not pkgs:
        return set()
    r = run(["dpkg-query", "-W", "-f", "${Package}\t${Essential}\t${Priority}\n"] + sorted(pkgs))
    out = set()
    for line in r.stdout.splitlines():
        f = line.split("\t")
        if len(f) == 3 and (f[1] == "yes" or f[2] == "required"):
            out.add(f[0])
    return out


def find_program(name):
    if name.startswith("/"):
        return name if os.path.exists(name) else None
    for d in DEBIAN_BIN_DIRS:
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def font_file(family, font_files):
    key = re.sub(r"[^a-z0-9]", "", family.lower())
    hits = [p for p in font_files
            if re.sub(r"[^a-z0-9]", "", os.path.basename(p).split("-")[0].split(".")[0].lower()) == key]
    hits.sort(key=lambda p: ("regular" not in p.lower(), p))
    return hits[0] if hits else None


def font_family(desc):
    fam = desc.split(",")[0].strip()
    fam = re.sub(r"\s+\d+(\.\d+)?(px)?$", "", fam)
    styles = r"(Bold|Italic|Oblique|Light|Medium|Heavy|Thin|Ultra-Light|Semi-Bold|Condensed|Expanded|Regular|Book)"
    while re.search(r"\s+" + styles + r"$", fam, re.I):
        fam = re.sub(r"\s+" + styles + r"$", "", fam, flags=re.I)
    return fam


class Item:
    def __init__(self, kind, name, uses):
        self.kind, self.name, self.uses = kind, name, uses
        self.path = None
        self.detail = ""
        self.error = None
        self.pkgs = set()


def gather(scanner, fnd, args):
    """Finds each thing on this machine: its file and its packages."""
    for family, use in fnd.font_props:
        fnd.add("font", font_family(family), use)
    kinds = {}
    for (kind, name), uses in fnd.uses.items():
        kinds.setdefault(kind, []).append(Item(kind, name, uses))
    items = [i for k in ("element", "program", "python module", "typelib", "font") for i in
             sorted(kinds.get(k, []), key=lambda i: i.name)]
    elements = [i.name for i in items if i.kind == "element"]
    modules = [i.name for i in items if i.kind == "python module"]
    typelibs = [i.name for i in items if i.kind == "typelib"]
    pr = probe(args, elements, modules, typelibs)
    extra = []
    seen_typelibs = {pr["typelibs"].get(i.name, {}).get(i.name.split("-")[0]) if pr["typelibs"].get(i.name) else None
                     for i in items if i.kind == "typelib"}
    font_files = []
    if any(i.kind == "font" for i in items):
        for dirpath, _, files in os.walk("/usr/share/fonts"):
            font_files += [os.path.join(dirpath, f) for f in files]
    for it in items:
        if it.kind == "element":
            e = pr["elements"].get(it.name)
            if not e:
                it.error = "no element %r in the GStreamer registry (system plugins only)" % it.name
            else:
                it.path, it.detail = e["file"], "plugin %s" % e["plugin"]
        elif it.kind == "program":
            it.path = find_program(it.name)
            if not it.path:
                elsewhere = shutil.which(it.name)
                it.error = ("%s is not a Debian program (%s; none in %s)" % (it.name, elsewhere, ", ".join(
                    DEBIAN_BIN_DIRS)) if elsewhere else "no program %s is installed" % it.name)
        elif it.kind == "python module":
            it.path = pr["modules"].get(it.name)
            if not it.path:
                it.error = "%s cannot import %s" % (DEBIAN_PYTHON, it.name)
            it.detail = "for %s" % DEBIAN_PYTHON
        elif it.kind == "typelib":
            t = pr["typelibs"].get(it.name)
            if not t:
                it.error = "no typelib %s for %s" % (it.name, DEBIAN_PYTHON)
            else:
                it.path = t.get(it.name.split("-")[0])
                if it.path and "-" not in it.name:   # imported without require_version
                    it.name = os.path.basename(it.path).replace(".typelib", "")
                for ns, p in sorted(t.items()):
                    if ns != it.name.split("-")[0] and p and p not in seen_typelibs:
                        seen_typelibs.add(p)
                        dep = Item("typelib", "%s (needed by %s)" % (os.path.basename(p).replace(".typelib", ""),
                                                                    it.name), it.uses)
                        dep.path = p
                        extra.append(dep)
        elif it.kind == "font":
            it.path = font_file(it.name, font_files)
            if not it.path:
                it.error = "no font file of the family %r under /usr/share/fonts" % it.name
    items += extra
    # one item per name (an import without require_version may name the same typelib)
    merged = {}
    for it in items:
        key = (it.kind, it.name)
        if key in merged:
            merged[key].uses += [u for u in it.uses if u not in merged[key].uses]
        else:
            merged[key] = it
    items = list(merged.values())
    own = owners([i.path for i in items if i.path])
    for it in items:
        if it.path and not it.error:
            it.pkgs = own.get(it.path, set())
            if not it.pkgs:
                it.error = "%s belongs to no Debian package" % it.path
    return items, pr.get("errors", [])


def uses_text(uses, n=3):
    s = ", ".join(uses[:n])
    return s + (" and %d more" % (len(uses) - n) if len(uses) > n else "")


def evaluate(items, listed, graph, base, lib_rel):
    via = closure(listed, graph)
    failures, covered = [], {}
    for it in items:
        if it.error:
            failures.append("%s %s (%s): %s" % (it.kind, it.name, uses_text(it.uses), it.error))
            continue
        ok = sorted((p for p in it.pkgs if p in via or p in base), key=lambda p: (p not in listed, p))
        if ok:
            covered.setdefault(ok[0], []).append(it)
        else:
            pkg = " or ".join(sorted(it.pkgs))
            failures.append("%s %s (%s): %s is in package %s, which %s's PT_PACKAGES neither lists nor "
                            "pulls in as a dependency: add %s to PT_PACKAGES"
                            % (it.kind, it.name, uses_text(it.uses), it.path, pkg, lib_rel, pkg))
    return failures, covered, via


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--srcdir", default=os.path.dirname(here), help="the source tree (default: this file's ..)")
    ap.add_argument("--lib-sh", help="the file defining PT_PACKAGES (default: SRCDIR/scripts/lib.sh)")
    ap.add_argument("--registry", help="GStreamer registry file to use (default: one in the temporary directory)")
    ap.add_argument("--plugin-dir", help="GStreamer's system plugin directory (default: GStreamer's own)")
    ap.add_argument("--no-self-check", action="store_true", help="skip the check that the check can fail")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every use")
    args = ap.parse_args()
    root = os.path.realpath(args.srcdir)
    lib_sh = args.lib_sh or os.path.join(root, "scripts", "lib.sh")
    lib_rel = os.path.relpath(lib_sh, root)
    if not args.registry:
        args.registry = os.path.join(tempfile.gettempdir(), "pt-check-packages-%d.registry" % os.getuid())

    scanner = Scanner(root)
    fnd = scanner.scan()
    items, errors = gather(scanner, fnd, args)
    listed = read_packages(lib_sh)
    graph = apt_graph(listed)
    unknown = [p for p in listed if p not in graph]
    needed = {p for it in items for p in it.pkgs}
    base = base_system(needed)
    failures, covered, via = evaluate(items, listed, graph, base, lib_rel)
    failures = ["%s: %s is not a package apt knows" % (lib_rel, p) for p in unknown] + failures
    failures = fnd.problems + failures

    # the summary
    c = scanner.counts
    by_kind = {}
    for it in items:
        by_kind.setdefault(it.kind, []).append(it)
    log("read %d shell, %d Python, %d C/C++ and %d meson.build files%s" % (
        c["shell"], c["python"], c["c/c++"], c["meson"],
        "; not run by any of them, so not checked: " + ", ".join(scanner.skipped) if scanner.skipped else ""))
    log("%s: %d packages in PT_PACKAGES, %d with their dependencies" % (lib_rel, len(listed), len(via)))
    for kind, label in (("element", "elements"), ("program", "programs"), ("python module", "Python modules"),
                        ("typelib", "typelibs"), ("font", "fonts")):
        lst = by_kind.get(kind, [])
        extra = " (the project's own, not checked: %s)" % " ".join(sorted(scanner.own)) if kind == "element" else ""
        log("%d %s: %s%s" % (len(lst), label, " ".join(i.name.split(" (")[0] for i in lst) or "-", extra))
    log("by package:")
    for pkg in sorted(covered, key=lambda p: (p not in listed, p in base, p)):
        how = ("listed" if pkg in listed else "base system" if pkg in base
               else "dependency of %s" % via[pkg])
        what = ", ".join("%s%s" % ("" if i.kind == "element" else i.kind + " ", i.name.split(" (")[0])
                         for i in covered[pkg])
        log("  %-34s %-40s %s" % (pkg, "[%s]" % how, what))
    if args.verbose:
        for it in items:
            log("  %s %s: %s (%s) <- %s" % (it.kind, it.name, it.path, it.detail, ", ".join(it.uses)))
    for e in errors:
        log("note: %s" % e)

    status = 0
    for f in failures:
        log("FAIL: " + f)
        status = 1

    # the check must be able to fail: without gstreamer1.0-x, textoverlay
    if not args.no_self_check:
        with open(lib_sh, encoding="utf-8") as fh:
            text = fh.read()
        pat = r"(?<![\w.+-])" + re.escape(SELF_CHECK_PACKAGE) + r"(?![\w.+-])"
        reduced, k = re.subn(pat, "", text)
        if k == 0:
            log("FAIL: self-check: %s has no %s to leave out" % (lib_rel, SELF_CHECK_PACKAGE))
            status = 1
        else:
            with tempfile.TemporaryDirectory() as tmp:
                copy = os.path.join(tmp, "lib.sh")
                with open(copy, "w", encoding="utf-8") as fh:
                    fh.write(reduced)
                listed2 = read_packages(copy)
            fails2, _, _ = evaluate(items, listed2, graph, base, lib_rel + " (copy without %s)" % SELF_CHECK_PACKAGE)
            hits = [f for f in fails2 if f.startswith("element %s " % SELF_CHECK_ELEMENT)]
            if hits and SELF_CHECK_PACKAGE in hits[0]:
                log("self-check: without %s the check fails (%d failure%s), as it must:\n  %s" % (
                    SELF_CHECK_PACKAGE, len(fails2), "" if len(fails2) == 1 else "s", hits[0]))
            elif hits:
                log("self-check: without %s the check fails on %s, but for another reason (see above): %s"
                    % (SELF_CHECK_PACKAGE, SELF_CHECK_ELEMENT, hits[0]))
                status = 1
            else:
                log("FAIL: self-check: with %s left out of PT_PACKAGES the check does not fail on %s"
                    % (SELF_CHECK_PACKAGE, SELF_CHECK_ELEMENT))
                status = 1

    n = len(by_kind.get("element", []))
    m = len(by_kind.get("program", []))
    log("%s: %d elements, %d programs, %d Python modules/typelibs, %d fonts; %d packages needed%s" % (
        "PASS" if status == 0 else "FAIL", n, m,
        len(by_kind.get("python module", [])) + len(by_kind.get("typelib", [])),
        len(by_kind.get("font", [])), len(covered),
        "" if status == 0 else "; %d failure%s" % (len(failures), "" if len(failures) == 1 else "s")))
    return status


if __name__ == "__main__":
    sys.exit(main())
