"""Playbook YAML is validated before anything runs: file, line and reason for every problem."""

from pathlib import Path

import pytest

from banso.playbooks.config import PlaybookError, load_playbook_file, load_playbooks

BANDS = {"red", "yellow", "green"}


def write(home: Path, name: str, text: str) -> Path:
    folder = home / "config" / "playbooks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(PlaybookError) as info:
        load_playbook_file(path, bands=BANDS)
    return info.value.problems


def test_the_default_playbooks_are_valid() -> None:
    names = [p.name for p in load_playbooks(None, BANDS)]
    assert names == [
        "advocacy-promoter", "champion-left", "contraction", "expansion-advanced-adoption",
        "expansion-usage-rising",
        "health-red", "new-account",
        "nps-detractor",
        "nps-promoter", "onboarding-overdue", "renewal-90", "sales-handoff", "score-drop",
        "tech-touch-inactive",
        "ticket-spike", "usage-drop", "usage-inactive",
    ]  # fmt: skip


def test_bad_yaml_names_file_and_line(banso_home: Path) -> None:
    path = write(banso_home, "bad.yaml", "name: x\ntrigger: {type: no_activity\nactions: []\n")
    [problem] = problems(path)
    assert problem.startswith(f"{path}:3: not valid YAML")


def test_field_errors_name_line_and_field(banso_home: Path) -> None:
    path = write(
        banso_home,
        "p.yaml",
        "name: p\n"
        "trigger:\n"
        "  type: no_activity\n"
        "  days: 0\n"
        "actions:\n"
        "  - cta: {type: risk, title: {en: x}, due_in_business_days: 2, colour: red}\n",
    )
    found = problems(path)
    assert f"{path}:4: trigger.days: Input should be greater than or equal to 1" in found
    assert f"{path}:6: actions.0.cta.colour: Extra inputs are not permitted" in found


def test_unknown_trigger_type_is_rejected(banso_home: Path) -> None:
    path = write(banso_home, "p.yaml", "name: p\ntrigger: {type: moon_phase}\nactions: []\n")
    [first, *_rest] = problems(path)
    assert first.startswith(f"{path}:2: trigger: Input tag 'moon_phase' found using 'type'")


def test_unknown_template_band_role_and_variable_are_rejected(banso_home: Path) -> None:
    (banso_home / "config" / "templates" / "email").mkdir(parents=True)
    (banso_home / "config" / "templates" / "email" / "oops.en.txt").write_text(
        "Subject: Hi {{ account.name }}\n\nYour score is {{ health_score }}.\n"
    )
    path = write(
        banso_home,
        "p.yaml",
        "name: p\n"
        "trigger: {type: health_band_changed, to: purple}\n"
        "actions:\n"
        "  - email: {template: no_such_template, to: champion}\n"
        "  - email: {template: oops, to: boss}\n",
    )
    templates = [banso_home / "config" / "templates"]
    with pytest.raises(PlaybookError) as info:
        load_playbook_file(path, templates, BANDS)
    assert info.value.problems == [
        f"{path}:2: trigger.to: unknown band 'purple'",
        f"{path}:4: actions.0.email.template: unknown email template 'no_such_template' "
        "(no no_such_template.en.txt or no_such_template.ja.txt)",
        f"{path}:5: actions.1.email.to: unknown contact role 'boss'",
        f"{path}:5: actions.1.email.template: oops.en.txt: unknown template variable "
        "'health_score'",
    ]


def test_webhook_url_from_an_unset_environment_variable_is_rejected(
    banso_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOK_URL", raising=False)
    path = write(
        banso_home,
        "p.yaml",
        "name: p\ntrigger: {type: champion_left}\nactions:\n  - webhook: {url_env: HOOK_URL}\n",
    )
    assert problems(path) == [f"{path}:4: actions.0.webhook.url_env: environment variable "
                              "HOOK_URL is not set"]  # fmt: skip


def test_check_config_command_lists_problems_and_exits_2(banso_home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    write(banso_home, "p.yaml", "name: p\ntrigger: {type: no_activity, days: 7}\nactions: []\n")
    result = cli("playbooks", "check-config")
    assert result.exit_code == 2
    assert "p.yaml:3: actions: List should have at least 1 item" in result.stderr


def test_check_config_command_accepts_the_defaults(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("playbooks", "check-config")
    assert result.exit_code == 0, result.stderr
    assert "health-red: trigger in_health_band, 1 actions — OK" in result.stdout
