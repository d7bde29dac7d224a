#!/usr/bin/env python3
"""Writes the socketkit manual pages from socketkit.h's doc comments.

The header is the one source of truth: every public function gets a page in
section 3 (its doc comment split into DESCRIPTION, RETURN VALUE and ERRORS,
its declaration as the SYNOPSIS) and socketkit(7) is made of the header's
opening comment (the numbered conventions, modes, timeouts, addresses), its
error codes and an index of the functions under the header's own section
banners. The declarations come from gen_abi.py's parser, so the pages and
the ABI description read the header the same way; only the comments, which
the preprocessor drops, are read from the raw text here.

usage: gen_man.py --header socketkit.h --cc cc --version 1.1.0 --out DIR
Writes DIR/man3/<function>.3 and DIR/man7/socketkit.7, replacing any page
left from an earlier run (a function removed from the header loses its page).
"""
import argparse
import datetime
import errno
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "abi"))
import gen_abi  # noqa: E402  (the shared header parser)

MANUAL = "socketkit manual"


def fail(msg):
    sys.exit("gen_man.py: " + msg)


# --------------------------------------------------------------- header ---

def comment_text(raw):
    """The prose of a /* */ or /** */ comment: no delimiters, no leading
    asterisks, lines kept."""
    body = re.sub(r"^/\*\*?|\*/$", "", raw)
    lines = []
    for line in body.split("\n"):
        lines.append(re.sub(r"^\s*\*( |$)", "", line).rstrip())
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def scan(header, known):
    """Reads the raw header in order and returns
    (opening comment lines, {function: doc lines}, [(banner, [functions])],
     [(macro, value, trailing comment)]).
    A doc comment (/** */) belongs to every function declared after it up
    to the next doc comment; a typedef or #define in between ends it, so a
    type's comment never lands on a function."""
    text = open(header).read()
    token = re.compile(r"/\*.*?\*/|^[ \t]*#[^\n]*|\btypedef\b|\b(sk_\w+)\s*\(", re.S | re.M)
    opening, docs, sections, macros = None, {}, [], []
    pending = None
    for m in token.finditer(text):
        tok = m.group(0)
        if tok.startswith("/*"):
            if opening is None:
                opening = comment_text(tok)
                continue
            lines = comment_text(tok)
            if tok.startswith("/**"):
                pending = lines
            elif len(lines) == 1 and not re.match(r"^-+$", lines[0].strip()):
                # A one-line plain comment under a dashed rule is a banner:
                # /* ---- */ then /* Title */.
                prev = text[:m.start()].rstrip().rsplit("\n", 1)[-1].strip()
                if re.match(r"^/\* -+ \*/$", prev):
                    sections.append((re.sub(r"\s*\(.*\)$", "", lines[0].strip()), []))
            continue
        if tok.lstrip().startswith("#"):
            md = re.match(r"^\s*#\s*define\s+(SK_\w+)\s+([^/\s][^/]*?)\s*(?:/\*(.*?)(?:\*/)?)?$", tok)
            if md:
                note = md.group(3)
                # A trailing comment may go on over the next lines.
                if note is not None and "*/" not in tok:
                    rest = text[m.end():text.index("*/", m.end())]
                    note += " " + " ".join(l.strip() for l in rest.split("\n"))
                macros.append((md.group(1), md.group(2).strip(),
                               re.sub(r"\s+", " ", note or "").strip()))
            pending = None
            continue
        if tok == "typedef":
            pending = None
            continue
        name = m.group(1)
        if name not in known:
            continue
        # The declaration as written: from after the previous statement or
        # comment to the ';', without the export macro.
        begin = max(text.rfind(";", 0, m.start()), text.rfind("*/", 0, m.start()),
                    text.rfind("\n#", 0, m.start()), text.rfind("{", 0, m.start()))
        begin = text.index("\n", begin) if begin >= 0 else 0
        written = re.sub(r"\s+", " ", text[begin:text.index(";", m.end()) + 1]).strip()
        known[name]["written"] = re.sub(r"^SK_API ", "", written)
        if pending is not None:
            docs[name] = pending
        if sections:
            sections[-1][1].append(name)
        else:
            sections.append(("Functions", [name]))
    if opening is None:
        fail("the header has no opening comment")
    return opening, docs, sections, macros


def paragraphs(lines):
    """Blank-line separated paragraphs, each one string."""
    out, cur = [], []
    for line in lines + [""]:
        if re.match(r"^\s*\d+\. ", line) and cur:
            out.append(" ".join(cur))
            cur = []
        if line.strip():
            cur.append(line.strip())
        elif cur:
            out.append(" ".join(cur))
            cur = []
    return out


def split_top(s, sep):
    """Splits on sep outside parentheses."""
    parts, depth, cur = [], 0, []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if depth == 0 and s.startswith(sep, i):
            parts.append("".join(cur))
            cur = []
            i += len(sep)
            continue
        cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def sentence_end(s, start=0):
    """Index just past the first sentence-ending period at or after start,
    outside parentheses and quotes ("1.0.0", "e.g." and "..." do not end
    one); len(s) if none."""
    depth, quote = 0, False
    for i in range(start, len(s)):
        ch = s[i]
        if ch == '"':
            quote = not quote
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "." and depth <= 0 and not quote:
            after = s[i + 1:i + 2]
            if after in ("", " ") and not s[max(0, i - 3):i + 1].endswith(("e.g.", "i.e.", "...")):
                return i + 1
    return len(s)


def split_doc(lines):
    """(description paragraphs, errors text or None). The errors are the
    sentence that starts with "Errors:"; what follows it stays description."""
    text = " ".join(l.strip() for l in lines)
    m = re.search(r"\bErrors: ", text)
    if not m:
        return paragraphs(lines), None
    end = sentence_end(text, m.end())
    errors = text[m.end():end].rstrip(".").strip()
    desc = (text[:m.start()].strip() + " " + text[end:].strip()).strip()
    return [desc] if desc else [], errors


ERR_ITEM = re.compile(r"^(?:and )?((?:[A-Z][A-Z0-9_]*\*?)(?:(?:/| or )[A-Z][A-Z0-9_]*\*?)*)"
                      r"(?:\s*\((.*)\))?$")


def error_items(errors):
    """[(names, why)] when the errors text is a list of NAME (why) items,
    else None (then it is printed as written, e.g. "as sk_send")."""
    items = []
    for part in split_top(errors, ","):
        part = part.strip()
        m = ERR_ITEM.match(part)
        if not m:
            return None
        items.append((m.group(1), m.group(2)))
    return items


# ----------------------------------------------------------------- roff ---

class Roff:
    """Turns plain header prose into roff text, marking the names it knows."""

    def __init__(self, functions):
        names = sorted(functions, key=len, reverse=True)
        self.func_re = re.compile(r"\b(%s)\b(\(\))?" % "|".join(map(re.escape, names)))
        self.const_re = re.compile(r"(?<![\w\\])((?:SK_[A-Z0-9_]+\*?)|(?:E[A-Z][A-Z0-9]{2,}))\b")

    @staticmethod
    def escape(s):
        s = s.replace("\\", "\\e").replace("-", "\\-")
        return s

    def text(self, s, refs=True):
        """One filled line of roff: escaped, names in bold, functions as
        references to their page."""
        s = self.escape(s)
        if refs:
            s = self.const_re.sub(lambda m: "\\fB%s\\fP" % m.group(1), s)
            s = self.func_re.sub(lambda m: "\\fB%s\\fP(3)" % m.group(1), s)
        if s.startswith((".", "'")):
            s = "\\&" + s
        return s


def declaration_lines(fn, width=72):
    """The declaration as the header spells it ("unsigned", not the parser's
    canonical "unsigned int"), wrapped at parameter boundaries under the
    open parenthesis, the way the header lays it out."""
    decl = fn["written"]
    open_at = decl.index("(")
    head = decl[:open_at + 1]
    params = [p.strip() for p in split_top(decl[open_at + 1:decl.rindex(")")], ",")]
    lines, cur = [], head
    for i, p in enumerate(params):
        piece = p + (", " if i + 1 < len(params) else ");")
        if len(cur) + len(piece.rstrip()) > width and not cur.endswith("("):
            lines.append(cur.rstrip())
            cur = " " * len(head) + piece
        else:
            cur += piece
    lines.append(cur.rstrip())
    return lines


def synopsis_roff(fn, roff):
    """Declaration lines with the function name bold and parameter names
    italic, for a no-fill block."""
    out = []
    names = {p["name"] for p in fn["params"] if p["name"]}
    for line in declaration_lines(fn):
        s = roff.escape(line)
        s = re.sub(r"\b%s\(" % re.escape(fn["name"]), "\\\\fB%s\\\\fP(" % fn["name"], s, count=1)
        for n in names:
            s = re.sub(r"\b%s(?=[,)])" % re.escape(n), "\\\\fI%s\\\\fP" % n, s)
        out.append(s)
    return out


def page_header(name, section, date, version):
    return ['.\\" Generated from socketkit.h by capi/man/gen_man.py; edit the header, not this page.',
            '.TH %s %s %s "socketkit %s" "%s"' % (name.upper().replace("-", "\\-"), section, date,
                                                   version, MANUAL),
            # Identifiers such as EAFNOSUPPORT must not be hyphenated.
            ".nh"]


def summary(doc):
    """The first sentence of a doc comment as a NAME line: lower-case first
    letter unless it starts a name, no final period."""
    text = " ".join(l.strip() for l in doc)
    first = text[:sentence_end(text)].rstrip(".").strip()
    if len(first) > 1 and first[0].isupper() and first[1].islower():
        first = first[0].lower() + first[1:]
    return first


def error_meaning(names, why, notes):
    """What an ERRORS entry says: the platform's message for the (first)
    name, or the header's note on an SK_ code, then the header's reason."""
    first = re.split(r"/| or ", names)[0]
    if first.startswith("SK_"):
        meaning = notes.get(first.rstrip("*"), "")
        if first.endswith("*"):
            meaning = "name resolution failed; the code says why (see socketkit(7))"
    else:
        code = getattr(errno, first, None)
        meaning = os.strerror(code) if code is not None else ""
    if meaning and why:
        return "%s: %s." % (meaning[0].upper() + meaning[1:], why)
    if meaning:
        return meaning[0].upper() + meaning[1:] + "."
    return (why or names) + "."


def function_page(fn, group, doc, roff, date, version, all_names, notes):
    out = page_header(fn["name"], 3, date, version)
    # A comment that starts "The same ..." leans on the function declared
    # just before it in the header: the page names that one.
    names = [g["name"] for g in group]
    i = all_names.index(names[0])
    lean = all_names[i - 1] if i and re.match(r"^(The )?[Ss]ame\b", " ".join(doc).strip()) else None
    line = summary(doc)
    if lean and not re.search(r"\b%s\b" % lean, line):
        line += " (as %s)" % lean
    out += [".SH NAME", "%s \\- %s" % (", ".join(names), roff.text(line, refs=False))]
    out += [".SH LIBRARY", "socketkit (\\fIlibsocketkit\\fP, \\fB\\-lsocketkit\\fP;"
            " \\fBpkg\\-config \\-\\-cflags \\-\\-libs socketkit\\fP)"]
    out += [".SH SYNOPSIS", ".nf", ".B #include <socketkit.h>", ".PP"]
    for i, g in enumerate(group):
        if i:
            out.append(".PP")
        out += synopsis_roff(g, roff)
    out.append(".fi")
    desc, errors = split_doc(doc)
    out.append(".SH DESCRIPTION")
    for i, p in enumerate(desc):
        if i:
            out.append(".PP")
        out.append(roff.text(p))
    returns_error = fn["c"] == "int" and errors is not None
    if returns_error:
        out += [".SH RETURN VALUE",
                "0 on success; otherwise a positive error number, listed under ERRORS"
                " (convention 1 in " + "\\fBsocketkit\\fP(7)). "
                "\\fBsk_last_error\\fP(3) then says what failed."]
    if errors is not None:
        out.append(".SH ERRORS")
        items = error_items(errors)
        if items is None:
            out.append(roff.text(errors[0].upper() + errors[1:] + "."))
        else:
            for names, why in items:
                out += [".TP", "\\fB%s\\fP" % roff.escape(names).replace(" or ", "\\fP or \\fB")
                        .replace("/", "\\fP, \\fB")]
                out.append(roff.text(error_meaning(names, why, notes)))
    out.append(".SH SEE ALSO")
    text = " ".join(doc)
    refs = [n for n in all_names if n not in names
            and (n == lean or re.search(r"\b%s\b" % re.escape(n), text))]
    out.append(",\n".join("\\fB%s\\fP(3)" % n for n in refs + ["socketkit"])
               .replace("\\fBsocketkit\\fP(3)", "\\fBsocketkit\\fP(7)"))
    return "\n".join(out) + "\n"


def overview_page(opening, sections, docs, macros, roff, date, version):
    out = page_header("socketkit", 7, date, version)
    out += [".SH NAME", "socketkit \\- Python's socket semantics behind a C ABI"]
    paras = paragraphs(opening)
    # The first line names the header; the paragraphs up to the conventions
    # are the description.
    intro, rest = [], list(paras)
    while rest and not rest[0].lower().startswith("conventions"):
        intro.append(rest.pop(0))
    intro = [p for p in intro if not re.match(r"^\S+\.h\b", p)]
    out.append(".SH DESCRIPTION")
    for i, p in enumerate(intro):
        if i:
            out.append(".PP")
        out.append(roff.text(p))
    out += [".PP", "Every function has its own page in section 3; they are listed under"
            " FUNCTIONS below."]
    if rest:
        out += [".SH CONVENTIONS", roff.text(rest.pop(0))]
        # Numbered items: "1. text" lines, each running until the next.
        while rest and re.match(r"^\d+\. ", rest[0]):
            num, body = rest.pop(0).split(" ", 1)
            out += [".TP 4", num, roff.text(body)]
    for p in rest:
        # A paragraph that opens with a short title ("Shared sockets.") is
        # headed by it; otherwise by its first word ("Timeouts are ...").
        title = re.match(r"^([A-Z][\w ]{0,40}?)\. (.*)$", p)
        if title and len(title.group(1).split()) <= 3:
            out += [".SH " + title.group(1).upper(), roff.text(title.group(2))]
        else:
            out += [".SH " + re.match(r"^(\w+)", p).group(1).upper(), roff.text(p)]
    errs = [(n, v, note) for n, v, note in macros if note and re.match(r"^\d+$", v)]
    if errs:
        out += [".SH ERROR CODES",
                "Failures that have no errno value are numbered from \\fBSK_ERR_BASE\\fP;"
                " \\fBsk_strerror\\fP(3) and \\fBsk_errname\\fP(3) describe and name them."]
        for n, v, note in errs:
            out += [".TP", "\\fB%s\\fP (%s)" % (roff.escape(n), v), roff.text(note[0].upper() + note[1:] + ".")]
    out.append(".SH FUNCTIONS")
    for title, names in sections:
        if not names:
            continue
        out += [".SS " + roff.text(title, refs=False)]
        for n in names:
            out += [".TP", "\\fB%s\\fP(3)" % n, roff.text(summary(docs.get(n, [n])), refs=False)]
    out += [".SH SEE ALSO", ",\n".join("\\fB%s\\fP(3)" % n for _, ns in sections for n in ns)]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--header", required=True)
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--version", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    functions, _, _, _ = gen_abi.parse(gen_abi.header_text(a.cc, a.header))
    if not functions:
        fail("no sk_ function found in " + a.header)
    by_name = {f["name"]: f for f in functions}
    opening, docs, sections, macros = scan(a.header, by_name)

    # Reproducible: the date comes from SOURCE_DATE_EPOCH (set by Debian's
    # tools) or else from the header's last change.
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH") or os.path.getmtime(a.header))
    date = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%d")
    roff = Roff(by_name)
    notes = {n: note for n, _, note in macros if note}

    # Functions that share one doc comment share the text; each still has
    # its own page, so `man sk_type` works like `man sk_family`.
    groups = {}
    for f in functions:
        key = id(docs.get(f["name"])) if f["name"] in docs else f["name"]
        groups.setdefault(key, []).append(f)
    pages = {}
    for f in functions:
        doc = docs.get(f["name"])
        if doc is None:
            # An undocumented function still gets a page; the man test
            # rejects its empty DESCRIPTION.
            print("gen_man.py: warning: %s has no doc comment" % f["name"], file=sys.stderr)
            doc = []
        group = groups[id(doc) if f["name"] in docs else f["name"]]
        pages[os.path.join("man3", f["name"] + ".3")] = function_page(
            f, group, doc, roff, date, a.version, [g["name"] for g in functions], notes)
    pages[os.path.join("man7", "socketkit.7")] = overview_page(
        opening, sections, docs, macros, roff, date, a.version)

    tmp = a.out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    for rel, text in pages.items():
        path = os.path.join(tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    shutil.rmtree(a.out, ignore_errors=True)
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
