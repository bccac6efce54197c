"""YAML configuration files (scorecards, playbooks) read into a Pydantic model.

Every problem is one ``FILE:LINE: FIELD: reason`` line: the line is that of the deepest part of
the field's path the file has, so a misspelt key points at the key, and a missing one at its
parent. A file that is not YAML at all gives the line the parser stopped at.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from banso.errors import ConfigRejected
from banso.i18n import _

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class YamlModel(Generic[Model]):
    """A file's validated content, with its YAML tree to name the lines of later problems."""

    path: Path
    model: Model
    root: yaml.Node | None

    def problem(self, loc: Sequence[Any], reason: str) -> str:
        """``FILE:LINE: FIELD: reason`` for a check made after validation (a cross-reference)."""
        return f"{self.path}:{line_of(self.root, loc)}: {'.'.join(str(p) for p in loc)}: {reason}"


def read_model(
    path: Path,
    model: type[Model],
    error: type[ConfigRejected],
    *,
    whole: str,
    hidden: Callable[[Any], bool] | None = None,
) -> YamlModel[Model]:
    """``path`` validated as ``model``; raises ``error`` with every problem of the file.

    ``whole`` names the field of a problem with the file as a whole (``(scorecard)``);
    ``hidden`` tells which parts of Pydantic's error paths the YAML has no key for (a union
    member's tag); validator function names are always left out."""
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        # the parser's own short sentence, without its multi-line excerpt of the file
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error([f"{path}:{line}: {_('not valid YAML')}: {problem}"]) from exc
    try:
        return YamlModel(path, model.model_validate(data), root)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [p for p in err["loc"] if not (_validator_name(p) or (hidden and hidden(p)))]
            field = ".".join(str(p) for p in loc) or whole
            reason = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{path}:{line_of(root, loc)}: {field}: {reason}")
        raise error(problems) from exc


def line_of(node: yaml.Node | None, loc: Sequence[Any]) -> int:
    """1-based line of the YAML node at ``loc`` (the deepest existing one)."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for key in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(key):
                    child = v
                    line = k.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key < len(node.value):
                child = node.value[key]
                line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _validator_name(part: Any) -> bool:
    return isinstance(part, str) and part.startswith("function-")
