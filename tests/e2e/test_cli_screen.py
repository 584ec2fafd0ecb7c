"""``mesoscreen screen`` as a user runs it: reports, JSON, standard input, exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mesoscreen.entrypoints.cli import main

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted((ROOT / "examples" / "intakes").glob("*.json"))


def test_the_report_puts_the_outcome_first_then_reasons_with_sources(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A deferred decision shows its date, its reason and the quoted source."""
    code = main(["screen", str(ROOT / "examples/intakes/02-recently-weaned.json"),
                 "--on", "2026-11-25"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("Outcome: DEFERRED")
    assert "Earliest date: 2027-04-15" in out
    assert "Not before: 2027-04-15" in out  # the report's date is the JSON's date
    assert "Lenient reading (not in force): 2027-01-15" in out
    assert 'Source: mesotherapy-hair-loss-who-should-avoid.txt: "It is advisable' in out


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_screens_with_exit_zero_and_valid_json(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each shipped example gives a decision object whatever its outcome."""
    assert main(["screen", str(example), "--json", "--on", "2026-11-25"]) == 0
    decision = json.loads(capsys.readouterr().out)
    assert decision["outcome"] in {
        "contraindicated", "deferred", "specialist_clearance", "incomplete", "precautions",
        "eligible",
    }  # fmt: skip
    assert decision["knowledge_base"]["hash"].startswith("sha256:")


def test_the_report_can_be_read_in_vietnamese(capsys: pytest.CaptureFixture[str]) -> None:
    """The clinician text follows --language."""
    main(["screen", str(ROOT / "examples/intakes/03-pregnant.json"), "--language", "vi"])
    assert "Đang mang thai: hoãn tiêm meso" in capsys.readouterr().out


ENGLISH_HEADINGS = [
    "Outcome:", "Earliest date:", "Screening date:", "Reasons:", "Not before:",
    "Lenient reading", "Still to confirm", "Sources disagree", "Source:", "See also:",
    "Unanswered (ask the patient):", "What to do next:", "Ingredients excluded:",
    "(finding ", "Allergens not in the catalogue", "Meanwhile, safer measures:",
    "Knowledge base ", "Policy:", "Decision support for clinicians", "DEFERRED", "INCOMPLETE",
    "CONTRAINDICATED", "PRECAUTIONS",
]  # fmt: skip
VI_EXAMPLES = ["02-recently-weaned", "03-pregnant", "04-allergy-lidocaine", "06-insulin-diabetes",
               "07-incomplete"]  # fmt: skip


def _vi_report(example: str, capsys: pytest.CaptureFixture[str]) -> str:
    path = ROOT / "examples" / "intakes" / f"{example}.json"
    assert main(["screen", str(path), "--on", "2026-11-25", "--language", "vi"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("example", VI_EXAMPLES)
def test_the_vietnamese_report_has_no_english_heading(
    example: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Headings, labels and the outcome line follow --language vi; quotes stay verbatim."""
    lines = _vi_report(example, capsys).splitlines()
    # A quoted source passage is English by nature: only the label before it is checked.
    labels = [line.split(': "')[0] for line in lines]
    for heading in ENGLISH_HEADINGS:
        assert not [line for line in labels if heading in line], heading


def test_the_vietnamese_report_names_each_part_in_vietnamese(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Across the examples every part of the report appears with its Vietnamese heading."""
    out = "\n".join(_vi_report(example, capsys) for example in VI_EXAMPLES)
    for heading in ["Kết quả: HOÃN", "Kết quả: CHƯA ĐỦ", "Kết quả: CHỐNG CHỈ ĐỊNH",
                    "Ngày sớm nhất:", "Ngày sàng lọc:", "Lý do:", "Không trước ngày:",
                    "Cách hiểu nới lỏng (không áp dụng):", "Nguồn:", "Xem thêm:",
                    "Chưa trả lời (hỏi bệnh nhân):", "Việc cần làm tiếp:",
                    "Thành phần bị loại trừ:", "Trong lúc chờ, các biện pháp an toàn hơn:",
                    "Cơ sở tri thức ", "Chính sách:", "Hỗ trợ quyết định cho bác sĩ"]:  # fmt: skip
        assert heading in out, heading


def test_standard_input_is_read_for_a_dash(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """FILE may be '-'."""
    payload = (ROOT / "examples/intakes/01-eligible-man.json").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(payload)))
    assert main(["screen", "-", "--json", "--on", "2026-11-25"]) == 0
    assert json.loads(capsys.readouterr().out)["outcome"] == "eligible"


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        ([], '{"pregnant": "perhaps"}', "intake field 'pregnant': must be 'yes', 'no' or"),
        ([], '{"pregnant": "yes",', "is not valid JSON"),
        ([], "[1, 2]", "intake field 'intake': must be a JSON object"),
        (["--on", "25/11/2026"], "{}", "--on: expected a date YYYY-MM-DD"),
        (["--policy", "/nonexistent/policy.yaml"], "{}", "cannot be read"),
    ],
)
def test_invalid_input_exits_2_with_one_line_on_stderr(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    content: str,
    message: str,
) -> None:
    """Bad input: exit 2, a single line naming the problem, no traceback."""
    path = tmp_path / "intake.json"
    path.write_text(content, encoding="utf-8")
    assert main(["screen", str(path), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err


def test_a_missing_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """An unreadable path is invalid input."""
    assert main(["screen", str(tmp_path / "none.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_the_installed_command_exits_2_without_a_traceback(tmp_path: Path) -> None:
    """The console script itself returns the exit code to the shell."""
    path = tmp_path / "bad.json"
    path.write_text('{"sex": "f"}', encoding="utf-8")
    result = subprocess.run(  # noqa: S603 - our own console script with a temp file
        [sys.executable, "-m", "mesoscreen", "screen", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "mesoscreen: error: intake field 'sex': must be one of female, male, other, unknown "
        "(got 'f' that is a <str>)"
    )
