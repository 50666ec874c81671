#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""docs/elements.md's property table agrees with the elements.

The property specs are where defaults and ranges are defined (from
pt::Settings and the ranges in src/settings.h); the table documents them.
This check fails, naming the property, when a property has no row, a row has
no property, or a row's type, range or default differs from the spec.
"""
import re
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GObject, Gst  # noqa: E402

OWN = {GObject.TYPE_STRING, GObject.TYPE_INT, GObject.TYPE_UINT, GObject.TYPE_BOOLEAN,
       GObject.TYPE_DOUBLE}


def spec_row(spec):
    """(type, range, default) as the table writes them."""
    t = spec.value_type
    if t.is_a(GObject.TYPE_ENUM):
        klass = spec.enum_class
        values = sorted(klass.__enum_values__.items())
        rng = ", ".join(f"`{v.value_nick}` ({n})" for n, v in values)
        return (f"enum `{t.name}`", rng, f"`{klass.__enum_values__[spec.default_value].value_nick}`")
    name = {GObject.TYPE_STRING: "string", GObject.TYPE_INT: "int", GObject.TYPE_UINT: "uint",
            GObject.TYPE_BOOLEAN: "boolean", GObject.TYPE_DOUBLE: "double"}[t]
    if not spec.flags & GObject.ParamFlags.WRITABLE:
        name += ", read-only"
    if t == GObject.TYPE_STRING:
        d = spec.default_value
        return (name, "", "`NULL`" if d is None else f"`{d}`")
    if t == GObject.TYPE_BOOLEAN:
        return (name, "", "`true`" if spec.default_value else "`false`")

    def num(x):
        return f"{x:g}" if isinstance(x, float) else str(x)
    return (name, f"{num(spec.minimum)} – {num(spec.maximum)}", num(spec.default_value))


def table_rows(path):
    """The rows of the tables headed "| property | type | range | default |"."""
    rows = {}
    in_properties = False
    for line in open(path, encoding="utf-8"):
        if not line.startswith("|"):
            in_properties = False
            continue
        cells = [c.strip() for c in line.split("|")]
        if cells[1:5] == ["property", "type", "range", "default"]:
            in_properties = True
        elif in_properties and re.fullmatch(r"`[a-z-]+`", cells[1]):
            rows[cells[1].strip("`")] = (cells[2], cells[3], cells[4])
    return rows


def main():
    docs = sys.argv[1]
    Gst.init(None)
    rows = table_rows(docs)
    failures = []
    seen = set()
    for factory in ("persiantranscribe", "harfsink"):
        el = Gst.ElementFactory.make(factory, None)
        if el is None:
            print(f"FAIL: cannot make {factory}: is the plugin on GST_PLUGIN_PATH?")
            return 1
        for spec in el.list_properties():
            if spec.owner_type.name not in ("GstPersianTranscribe", "GstHarfSink"):
                continue  # inherited from GstObject, GstBaseSink
            seen.add(spec.name)
            want = spec_row(spec)
            got = rows.get(spec.name)
            if got is None:
                failures.append(f"{factory}: property {spec.name} has no row in {docs}")
            elif got != want:
                failures.append(f"{factory}: {spec.name}: the table says {got}, "
                                f"the property spec {want}")
    if not rows:
        failures.append(f"no property table found in {docs}")
    for name in sorted(set(rows) - seen):
        failures.append(f"{docs} documents a property {name} that neither element has")
    for f in failures:
        print("FAIL:", f)
    print(f"{len(seen)} properties checked against {docs}: {len(failures)} differences")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
