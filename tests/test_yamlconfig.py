"""One loader for every YAML config: problems are ``FILE:LINE: FIELD: reason`` lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from banso.errors import ConfigRejected
from banso.yamlconfig import read_model


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weight: float = Field(ge=0)


class Card(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    rules: dict[str, Rule]


class CardError(ConfigRejected):
    pass


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "card.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_gives_the_model_and_names_lines_of_later_checks(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: a\nrules:\n  logins:\n    weight: 2\n")
    loaded = read_model(path, Card, CardError, whole="(card)")
    assert loaded.model.rules["logins"].weight == 2
    assert loaded.problem(["rules", "logins", "weight"], "too heavy") == (
        f"{path}:4: rules.logins.weight: too heavy"
    )


def test_every_field_problem_names_its_line_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: a\nrules:\n  logins:\n    weight: -1\n  seats:\n    wieght: 1\n")
    with pytest.raises(CardError) as caught:
        read_model(path, Card, CardError, whole="(card)")
    assert caught.value.problems == [
        f"{path}:4: rules.logins.weight: Input should be greater than or equal to 0",
        f"{path}:5: rules.seats.weight: Field required",  # missing: the line of its parent
        f"{path}:6: rules.seats.wieght: Extra inputs are not permitted",
    ]


def test_a_file_that_is_not_a_mapping_is_a_problem_of_the_whole(tmp_path: Path) -> None:
    path = _write(tmp_path, "- just\n- a list\n")
    with pytest.raises(CardError) as caught:
        read_model(path, Card, CardError, whole="(card)")
    assert caught.value.problems == [
        f"{path}:1: (card): Input should be a valid dictionary or instance of Card"
    ]


def test_broken_yaml_names_the_line_the_parser_stopped_at(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: a\nrules: [\n  1,\n")
    with pytest.raises(CardError) as caught:
        read_model(path, Card, CardError, whole="(card)")
    [problem] = caught.value.problems
    assert problem.startswith(f"{path}:4: not valid YAML: ")
    # one line: the parser's sentence, not its excerpt of the file
    found = "expected the node content, but found '<stream end>'"
    assert problem == f"{path}:4: not valid YAML: {found}"
