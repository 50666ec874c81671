#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""md2man.py: turns a manual written in Markdown (docs/persian-transcribe.md)
into a man page (roff, man macros), so that the Markdown stays the single
source of the manual.

    md2man.py INPUT.md OUTPUT.1 [--source "persiantranscribe 0.1.0"]
              [--manual "User Commands"]

It knows the subset of Markdown the manual uses:

  # name(section)           the title: .TH NAME SECTION
  ## HEADING, ### Heading    .SH / .SS
  paragraphs                 .PP (under "NAME": "name \\- summary", as
                             lexgrog/whatis expect)
  ```fenced code```          .nf/.fi, indented
  * bullets                  .IP \\(bu
  term / ": definition"      .TP (option lists), further paragraphs .IP
  | tables |                 .TP: the first column is the tag; with more
                             than two columns each further cell is
                             "header: cell", one per line
  **bold**, *italic*, `code` \\fB, \\fI, \\fB (code is escaped as literal
                             text: \\- for -, \\(aq for ', ...)
  [text](target)             text (and the target when it is a URL)

Backslashes are written \\e, lines that would start with . or ' get \\&,
and a hyphen that begins a word (an option, a minus sign) is \\-.  The date
in .TH comes from SOURCE_DATE_EPOCH when it is set (reproducible builds),
and is left out otherwise.  Python 3 standard library only.
"""
import argparse
import datetime
import os
import re
import sys

CODE, BOLD, ITALIC = "B", "B", "I"


class Md2Man:
    def __init__(self, text):
        self.lines = text.splitlines()
        self.out = []
        self.section = ""
        self.title = None
        self.th_tail = '"" "" ""'

    # --- inline text --------------------------------------------------------

    @staticmethod
    def escape(s, code=False):
        s = s.replace("\\", "\\e")
        if code:
            # literal text: keep ASCII minus, quotes, tilde and caret as typed
            s = (s.replace("-", "\\-").replace("'", "\\(aq").replace("`", "\\(ga")
                 .replace("~", "\\(ti").replace("^", "\\(ha"))
        else:
            # a hyphen starting a word (an option, a minus sign) or following
            # another is a minus; inside a word it stays a hyphen
            s = re.sub(r"(?<![A-Za-z0-9\-])-|(?<=-)-", r"\\-", s)
        return s

    @staticmethod
    def nohyphen(roff):
        """\\% before each word: literal text is never hyphenated."""
        return re.sub(r"(^|(?<= ))(?=\S)", r"\\%", roff)

    def inline(self, text):
        """Markdown inline markup to roff; newlines are kept."""
        spans = []

        def keep(roff):
            spans.append(roff)
            return "\x02%d\x03" % (len(spans) - 1)

        # code spans first: their content is literal
        text = re.sub(r"(`+)(.+?)\1",
                      lambda m: keep("\x01" + CODE + self.nohyphen(
                          self.escape(m.group(2).strip(), code=True).replace("\n", " ")) + "\x01P"),
                      text, flags=re.S)
        # links: the text, and the target when it is a URL
        text = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)",
                      lambda m: m.group(1) + (" <" + m.group(2) + ">"
                                              if re.match(r"[a-z]+://", m.group(2)) else ""),
                      text)
        text = self.escape(text)
        text = re.sub(r"\*\*(.+?)\*\*", "\x01" + BOLD + r"\1" + "\x01P", text, flags=re.S)
        text = re.sub(r"(?<![\w*\\])\*(?![\s*])(.+?)(?<![\s*\\])\*(?![\w*])",
                      "\x01" + ITALIC + r"\1" + "\x01P", text, flags=re.S)
        text = re.sub(r"\x02(\d+)\x03", lambda m: spans[int(m.group(1))], text)
        # fonts: a stack, so that a span closing inside another returns to it
        stack = ["R"]
        res = []
        for part in re.split(r"(\x01[BIP])", text):
            if part.startswith("\x01"):
                if part[1] == "P":
                    if len(stack) > 1:
                        stack.pop()
                else:
                    stack.append(part[1])
                res.append("\\f" + stack[-1])
            else:
                res.append(part)
        return "".join(res)

    def emit_text(self, roff):
        """Writes formatted text: one input line per line, none starting with
        a space (a break) or a control character."""
        for line in roff.split("\n"):
            line = line.strip()
            if not line:
                continue
            if line[0] in ".'":
                line = "\\&" + line
            self.out.append(line)

    def plain(self, text):
        """Text without markup (for NAME)."""
        text = re.sub(r"(`+)(.+?)\1", r"\2", text, flags=re.S)
        text = re.sub(r"\*\*(.+?)\*\*|\*(.+?)\*", lambda m: m.group(1) or m.group(2), text)
        return " ".join(text.split())

    # --- blocks -------------------------------------------------------------

    def code_block(self, body):
        self.out += [".PP", ".RS 4", ".nf"]
        for line in body:
            line = self.escape(line.rstrip(), code=True)
            if line[:1] in (".", "'") or not line:
                line = "\\&" + line
            self.out.append(line)
        self.out += [".fi", ".RE"]

    @staticmethod
    def cells(row):
        """Cells of a table row; | inside a code span does not split."""
        row = row.strip()
        if row.startswith("|"):
            row = row[1:]
        if row.endswith("|"):
            row = row[:-1]
        cells, cur, code = [], "", False
        for ch in row:
            if ch == "`":
                code = not code
            if ch == "|" and not code:
                cells.append(cur.strip())
                cur = ""
            else:
                cur += ch
        cells.append(cur.strip())
        return cells

    def table(self, rows):
        header = self.cells(rows[0])
        for row in rows[2:]:
            c = self.cells(row)
            self.out.append(".TP")
            self.emit_text(self.inline(c[0]))
            if len(header) > 2:
                self.out.append(".br")  # the fields start below the tag
            if len(header) == 2:
                self.emit_text(self.inline(c[1] if len(c) > 1 else ""))
            else:
                for j, (h, v) in enumerate(zip(header[1:], c[1:])):
                    if j:
                        self.out.append(".br")
                    self.emit_text("\\fI" + self.escape(self.plain(h)) + "\\fR: " + self.inline(v))

    @staticmethod
    def is_block_start(line):
        return bool(re.match(r"(```|#{1,6}\s|\|)", line)) or bool(re.match(r"\s*[*-]\s+\S", line))

    def convert(self):
        lines = self.lines
        i, n = 0, len(lines)
        while i < n:
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            # fenced code
            if line.lstrip().startswith("```"):
                j = i + 1
                while j < n and not lines[j].lstrip().startswith("```"):
                    j += 1
                self.code_block(lines[i + 1:j])
                i = j + 1
                continue
            # headings
            m = re.match(r"(#{1,6})\s+(.*?)\s*#*\s*$", line)
            if m:
                level, head = len(m.group(1)), m.group(2)
                if level == 1:
                    t = re.match(r"(.+?)\((\w+)\)$", self.plain(head))
                    if not t:
                        sys.exit("md2man: the title must be 'name(section)', not %r" % head)
                    self.title = (t.group(1), t.group(2))
                    self.out.append(".TH %s %s %s" % (self.escape(t.group(1).upper(), code=True), t.group(2),
                                                      self.th_tail))
                    # left-aligned: long URLs and option names would stretch
                    # justified lines
                    self.out.append(".ad l")
                elif level == 2:
                    self.section = self.plain(head).upper()
                    self.out.append(".SH " + self.quote_arg(self.escape(self.section)))
                else:
                    self.out.append(".SS " + self.quote_arg(self.escape(self.plain(head))))
                i += 1
                continue
            # tables
            if line.lstrip().startswith("|") and i + 1 < n and re.match(r"\s*\|?\s*:?-+", lines[i + 1]):
                j = i
                while j < n and lines[j].lstrip().startswith("|"):
                    j += 1
                self.table(lines[i:j])
                i = j
                continue
            # bullet lists: an item runs to the next bullet or blank line;
            # a blank line followed by another bullet continues the list
            if re.match(r"\s*[*-]\s+\S", line):
                while i < n and re.match(r"\s*[*-]\s+\S", lines[i]):
                    item = [re.sub(r"^\s*[*-]\s+", "", lines[i])]
                    i += 1
                    while i < n and lines[i].strip() and not re.match(r"\s*[*-]\s+\S", lines[i]):
                        item.append(lines[i])
                        i += 1
                    self.out.append(".IP \\(bu 2")
                    self.emit_text(self.inline("\n".join(item)))
                    if i < n and not lines[i].strip() and i + 1 < n and re.match(r"\s*[*-]\s+\S", lines[i + 1]):
                        i += 1
                continue
            # definition lists: "term" then ": definition", continuation
            # lines indented; an indented paragraph after a blank line
            # belongs to the same item
            if i + 1 < n and lines[i + 1].startswith(": "):
                self.out.append(".TP")
                self.emit_text(self.inline(line))
                body = [lines[i + 1][2:]]
                i += 2
                while i < n:
                    if lines[i].startswith("  ") and lines[i].strip():
                        body.append(lines[i])
                        i += 1
                    elif (not lines[i].strip() and i + 1 < n and lines[i + 1].startswith("  ")
                          and lines[i + 1].strip()):
                        self.emit_text(self.inline("\n".join(body)))
                        self.out.append(".IP")
                        body = []
                        i += 1
                    else:
                        break
                self.emit_text(self.inline("\n".join(body)))
                continue
            # paragraph
            para = [line]
            i += 1
            while i < n and lines[i].strip() and not self.is_block_start(lines[i]) \
                    and not (i + 1 < n and lines[i + 1].startswith(": ")):
                para.append(lines[i])
                i += 1
            if self.section == "NAME":
                text = self.plain(" ".join(para))
                m = re.match(r"(.*?)\s+(?:—|--|-)\s+(.*)", text)
                if m:
                    self.out.append(self.escape(m.group(1), code=True) + " \\- " + self.escape(m.group(2)))
                else:
                    self.emit_text(self.escape(text))
            else:
                self.out.append(".PP")
                self.emit_text(self.inline("\n".join(para)))
        if not self.title:
            sys.exit("md2man: no '# name(section)' title")
        return self.out

    @staticmethod
    def quote_arg(s):
        return '"%s"' % s.replace('"', '\\(dq') if " " in s else s


def main():
    ap = argparse.ArgumentParser(description="Markdown manual to man page (roff)")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--source", default="", help='the footer\'s source, e.g. "persiantranscribe 0.1.0"')
    ap.add_argument("--manual", default="User Commands")
    args = ap.parse_args()

    with open(args.input, encoding="utf-8") as f:
        text = f.read()
    conv = Md2Man(text)
    date = ""
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        date = datetime.datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]),
                                               datetime.timezone.utc).strftime("%Y-%m-%d")
    conv.th_tail = " ".join('"%s"' % conv.escape(a) for a in (date, args.source, args.manual))
    body = conv.convert()
    head = ["'\\\" -*- coding: UTF-8 -*-",
            ".\\\" Generated by docs/md2man.py from docs/%s: edit that file, not this one."
            % os.path.basename(args.input)]
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(head + body) + "\n")
    os.replace(tmp, args.output)


if __name__ == "__main__":
    main()
