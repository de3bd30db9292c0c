"""The README works from a fresh clone: its relative links resolve and every command it shows exists."""

import re
from pathlib import Path

import pytest

from vidseg.apps.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "vidseg" / "weights").glob("*.md"))]


def relative_links(path: Path) -> list[str]:
    targets = re.findall(r"\]\(([^)\s]+)\)", path.read_text())
    return [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc):
    missing = [t for t in relative_links(doc) if t and not (doc.parent / t).exists()]
    assert not missing, f"{doc.name} links to missing files: {missing}"


def shown_commands() -> set[tuple[str, ...]]:
    """Every `vidseg COMMAND [SUBCOMMAND]` the README shows, in code or in text."""
    found = set()
    for words in re.findall(r"vidseg ((?:[a-z]+)(?: [a-z]+)?)", README):
        found.add(tuple(words.split()))
    return found


def test_every_command_the_readme_shows_has_help(capsys):
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    shown = shown_commands()
    assert {"segment", "click", "track", "train"} <= {c[0] for c in shown}
    for words in shown:
        if words[0] not in commands:
            continue  # prose such as "vidseg is ..." or "vidseg cuts ..."
        sub = commands[words[0]]
        argv = list(words) if len(words) > 1 and _has_subcommand(sub, words[1]) else [words[0]]
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args([*argv, "--help"])
        assert exit_info.value.code == 0, argv
    capsys.readouterr()


def _has_subcommand(parser, name: str) -> bool:
    groups = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return any(name in g.choices for g in groups)


def test_the_readme_starts_with_the_two_commands_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in README
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    assert ci in first_block and "vidseg demo" in first_block
