"""``scripts/install-test-packages``: what ``make test`` installs on a machine that lacks it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "scripts" / "install-test-packages"
BASH = shutil.which("bash") or "/bin/bash"


def _run(path_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run the script in dry-run mode with ``path_dir`` as the only PATH entry."""
    env = {"PATH": str(path_dir), "MESOSCREEN_INSTALL_DRY_RUN": "1", "HOME": os.environ["HOME"]}
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [BASH, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30, check=False
    )


def _fake_commands(directory: Path, *names: str) -> None:
    """Put executables with these names in ``directory`` (they do nothing)."""
    for name in names:
        command = directory / name
        command.write_text("#!/bin/sh\nexit 0\n")
        command.chmod(0o755)


def test_a_machine_without_the_packages_is_told_in_one_line_what_would_be_installed(
    tmp_path: Path,
) -> None:
    """No chromium, java, node or npm on PATH: one line names all four Debian packages."""
    result = _run(tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].split("would install ")[1].split(" from")[0].split() == [
        "chromium",
        "default-jre-headless",
        "nodejs",
        "npm",
    ]


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        (("java", "node", "npm"), ["chromium"]),
        (("chromium", "node", "npm"), ["default-jre-headless"]),
        (("chromium", "java", "node"), ["nodejs", "npm"]),
    ],
)
def test_only_the_missing_packages_are_named(
    tmp_path: Path, present: tuple[str, ...], expected: list[str]
) -> None:
    """A package whose command is already on PATH is not installed again."""
    _fake_commands(tmp_path, *present)
    result = _run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("would install ")[1].split(" from")[0].split() == expected


def test_a_machine_with_everything_installs_nothing(tmp_path: Path) -> None:
    """All four commands present: the script says so and installs nothing."""
    _fake_commands(tmp_path, "chromium", "java", "node", "npm")
    result = _run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "already installed" in result.stdout
    assert "install " not in result.stdout.replace("already installed", "")
