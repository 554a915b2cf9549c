#!/usr/bin/env python3
"""Checks that component READMEs document the options `forcepipe config example` has.

Usage: check-readme-options.py FORCEPIPE_BINARY [REPO_ROOT]

For each src/**/README.md, every ```yaml block under a "## Config" heading is
read: an instance's `type: KIND` names the kind, and the keys at that
instance's level are its documented options. Each must be an option of KIND in
`forcepipe config example` (or a key every instance has: type, and for sinks
batch, max_in_flight, retry; or <secret>_file). When the heading line contains
"(complete)", the reverse holds too: every option of KIND must be documented.
Exits 1 naming README, option and kind for every mismatch.
"""
import pathlib
import re
import subprocess
import sys

COMMON = {"source": {"type"}, "sink": {"type", "batch", "max_in_flight", "retry"},
          "checkpoint": {"type"}}


def example_options(binary):
    out = subprocess.run([binary, "config", "example"], check=True, capture_output=True,
                         text=True).stdout
    kinds = {}  # kind -> (seam, set of option names)
    current = None
    for line in out.splitlines():
        m = re.match(r"^# (source|sink|checkpoint) type: (\S+) ", line)
        if m:
            current = (m.group(1), m.group(2))
            kinds[m.group(2)] = (m.group(1), set())
            continue
        # A set option renders as "#   key: value", an unset one as "#   # key:".
        m = re.match(r"^#   ([A-Za-z0-9_]+):", line) or re.match(r"^#   # ([A-Za-z0-9_]+):$", line)
        if current and m:
            kinds[current[1]][1].add(m.group(1))
        elif not line.startswith("#   "):
            current = None
    return kinds


def readme_blocks(text):
    """Yields (heading, yaml text) for yaml blocks under a '## Config' heading."""
    heading = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            heading = line if line.startswith("## Config") else None
        elif heading and line.strip() == "```yaml":
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            yield heading, lines[i + 1:j]
            i = j
        i += 1


def documented(yaml_lines):
    """Returns {kind: set of keys} from instances that carry `type: KIND`."""
    out = {}
    instances = []  # (indent of the instance's keys, keys, kind)
    for line in yaml_lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"^( *)([A-Za-z0-9_]+):\s*(.*?)\s*(#.*)?$", line)
        if not m:
            continue
        indent, key, value = len(m.group(1)), m.group(2), m.group(3)
        instances.append((indent, key, value))
    # Group consecutive keys at the same indent under their parent.
    groups = {}
    stack = []
    for indent, key, value in instances:
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = tuple(k for _, k in stack)
        groups.setdefault(parent, []).append((key, value))
        stack.append((indent, key))
    for parent, keys in groups.items():
        kind = dict(keys).get("type")
        if kind:
            out.setdefault(kind, set()).update(k for k, _ in keys)
    return out


def main():
    binary = sys.argv[1]
    root = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else ".")
    kinds = example_options(binary)
    errors = []
    for readme in sorted(root.glob("src/**/README.md")):
        rel = readme.relative_to(root)
        for heading, block in readme_blocks(readme.read_text()):
            for kind, keys in documented(block).items():
                if kind not in kinds:
                    errors.append(f"{rel}: kind {kind}: not in `forcepipe config example`")
                    continue
                seam, options = kinds[kind]
                allowed = options | COMMON[seam] | {o + "_file" for o in options}
                for k in sorted(keys - allowed):
                    errors.append(f"{rel}: option {k} of {seam} {kind}: not in `forcepipe config example`")
                if "(complete)" in heading:
                    for k in sorted(options - keys - {o[:-5] for o in keys if o.endswith("_file")}):
                        errors.append(f"{rel}: option {k} of {seam} {kind}: in `forcepipe config example` but not documented")
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"check-readme-options: {len(errors)} mismatch(es)", file=sys.stderr)
        return 1
    print("check-readme-options: READMEs match `forcepipe config example`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
