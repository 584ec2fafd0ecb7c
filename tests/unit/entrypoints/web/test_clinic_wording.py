"""The wording the clinic's review asked for (issue 21 item 11) stays as agreed."""

from __future__ import annotations

from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.web.i18n import messages


def test_the_vietnamese_wording_of_clearances_outcomes_and_consent() -> None:
    """Clearance is "chấp thuận", its recorder "Người xác nhận", incomplete says what to do."""
    vi = messages()[Language.VI]
    assert (
        vi.gettext("outcomes.specialist_clearance")
        == "CẦN BÁC SĨ CHUYÊN KHOA CHẤP THUẬN trước khi điều trị"
    )
    assert (vi.gettext("results.cleared"), vi.gettext("results.not_cleared")) == (
        "Đã chấp thuận",
        "Không chấp thuận",
    )
    assert vi.gettext("cleared_by") == "Người xác nhận (họ tên)"
    assert vi.gettext("outcomes.incomplete") == "CHƯA ĐỦ THÔNG TIN: cần trả lời đủ các câu hỏi"
    assert vi.gettext("take_consent") == "Ký phiếu đồng ý"
    assert vi.gettext("photos.file_help").startswith("Tối đa %(mb)s MB.")


def test_a_plan_page_is_headed_treatment_plan_in_both_languages() -> None:
    """ "Treatment plan: <patient>", never "Plan treatment: <patient>"."""
    assert messages()[Language.EN].gettext("treatment_plan") == "Treatment plan"
    assert messages()[Language.VI].gettext("treatment_plan") == "Kế hoạch điều trị"
