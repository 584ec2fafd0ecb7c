"""``mesoscreen plan``: an injection map, doses, depth and session calendar for the zones chosen."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import orjson
import typer

from mesoscreen.bootstrap import command_clock
from mesoscreen.domain.decision import Decision
from mesoscreen.domain.errors import InputError
from mesoscreen.domain.planner.plan import PlannedTreatment, PlanRequest
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.cli.app import app
from mesoscreen.entrypoints.cli.command_settings import policy_file_for
from mesoscreen.entrypoints.cli.input_kinds import screening_input
from mesoscreen.entrypoints.cli.inputs import parse_day, read_json, write_output
from mesoscreen.entrypoints.rendering.injection_map_svg import (
    CheckedScreening,
    render_injection_map,
)
from mesoscreen.knowledge import default_knowledge_base, load_policy
from mesoscreen.knowledge.planning_loader import DEFAULT_FORMULARY, default_atlas, load_formulary
from mesoscreen.services.decision_verification import looks_like_decision, verified_decision
from mesoscreen.services.planning import PlanningService
from mesoscreen.services.screening import ScreeningService, screening_service


def _screening(path: str | None, service: ScreeningService, today: date) -> Decision | None:
    """The decision --screening names: an intake (or FHIR record) screened today, or a decision
    JSON that this system makes again, identically, from the input it carries."""
    if path is None:
        return None
    document = read_json(path)
    try:
        if looks_like_decision(document):
            assert isinstance(document, dict)  # noqa: S101 (looks_like_decision checked it)
            return verified_decision(document, service)
        given = screening_input(document, today)
        if given.deceased is not None:
            raise InputError(f"the record shows the patient has died ({given.deceased})")
        return service.screen(given.answers, today)
    except InputError as refused:
        raise InputError(f"--screening {path}: {refused}") from None


def _split(value: str | None) -> tuple[str, ...]:
    """A comma-separated option as a tuple, blanks dropped."""
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _dose_lines(plan: PlannedTreatment) -> list[str]:
    """Volumes and doses of one session, each beside its cap."""
    product, dose, caps = plan.product, plan.dose, plan.product.caps
    lines = [
        f"Volume:    {dose.volume_per_point_ml:g} mL per point (maximum "
        f"{caps.volume_per_point_ml:g}), {dose.total_volume_ml:g} mL per session "
        f"(maximum {caps.volume_per_session_ml:g} mL)",
    ]
    if dose.total_dose is not None and dose.unit is not None and dose.dose_per_point is not None:
        unit = dose.unit.value
        lines.append(
            f"Dose:      {dose.dose_per_point:g} {unit} per point, {dose.total_dose:g} {unit} "
            f"per session (maximum {caps.dose_per_session:g} {unit})"
        )
    else:
        lines.append(f"Dose:      {product.concentration.known}")
    return lines


def render_table(plan: PlannedTreatment, language: Language) -> str:
    """The plan as a printable text table."""
    product, dose = plan.product, plan.dose
    concentration = product.concentration
    strength = (
        f"{concentration.label} = {concentration.amount_per_ml:g} {concentration.unit.value}/mL"
        if concentration.unit is not None and concentration.amount_per_ml is not None
        else concentration.label
    )
    lines = [
        f"Treatment plan: {len(plan.points)} points, {plan.area_cm2:g} cm², "
        f"spacing {plan.spacing_cm:g} cm on the scalp "
        f"(nearest neighbour {plan.spacing.minimum_cm:.2f}-{plan.spacing.maximum_cm:.2f} cm)",
        "",
        f"{'zone':<16}{'area cm²':>10}{'points':>8}",
    ]
    lines += [f"{z.id:<16}{z.area_cm2:>10.1f}{z.points:>8}" for z in plan.zones]
    lines += [
        "",
        f"Product:   {product.name.in_language(language)} ({strength}; "
        f"{product.technique.value}, needle {product.needle})",
        f"Depth:     {dose.depth_mm[0]:g}-{dose.depth_mm[1]:g} mm (permitted "
        f"{product.depth_mm[0]:g}-{product.depth_mm[1]:g} mm)",
        *_dose_lines(plan),
        "",
        "Sessions:",
    ]
    lines += [f"  {s.number:>2}. {s.day.isoformat()}  {s.phase}" for s in plan.sessions]
    lines += ["", "Sources of the figures:"]
    lines += [f"  {field}: {source}" for field, source in product.sources.items()]
    if not plan.screening_checked:
        lines += [
            "",
            "NOTICE: no screening was checked (--screening); the records service "
            "enforces it before a plan is stored.",
        ]
    return "\n".join(lines)


@app.command("plan")
def plan_command(
    zones: Annotated[str | None, typer.Option("--zones", help="Comma-separated zones.")] = None,
    stage: Annotated[str | None, typer.Option("--stage", help="e.g. norwood-4, ludwig-2.")] = None,
    spacing_cm: Annotated[float, typer.Option("--spacing-cm", help="0.5 to 2.0 cm.")] = 1.0,
    head_circumference_cm: Annotated[float | None, typer.Option("--head-circumference-cm")] = None,
    nasion_inion_cm: Annotated[float | None, typer.Option("--nasion-inion-cm")] = None,
    ear_to_ear_cm: Annotated[float | None, typer.Option("--ear-to-ear-cm")] = None,
    formulary: Annotated[Path | None, typer.Option("--formulary", help="Formulary YAML.")] = None,
    ingredient: Annotated[
        str | None, typer.Option("--ingredient", help="Product id or ingredient name.")
    ] = None,
    svg: Annotated[Path | None, typer.Option("--svg", help="Write the injection map here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    screening: Annotated[
        str | None,
        typer.Option(
            "--screening",
            help="An intake (or FHIR record) to screen today, or a decision printed by "
            "`mesoscreen screen --json`, which is made again and must match.",
        ),
    ] = None,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Clinic policy file (YAML or JSON).")
    ] = None,
    actions_done: Annotated[
        str | None, typer.Option("--actions-done", help="Required actions recorded as done.")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            help="First session date (default: today, or the earliest date the screening allows).",
        ),
    ] = None,
    volume_per_point_ml: Annotated[
        float | None,
        typer.Option("--volume-per-point-ml", help="Default: the product's; within its cap."),
    ] = None,
    depth_mm: Annotated[
        str | None,
        typer.Option("--depth-mm", help="e.g. 1.5-2; default: the product's permitted range."),
    ] = None,
    language: Annotated[Language, typer.Option("--language")] = Language.EN,
) -> None:
    """Plan injections about 1 cm apart on the head; exit 2 for unknown zones, stages or
    ingredients, out-of-range values, a plan over any cap of the product, a screening that
    forbids the plan, or a --screening decision this system cannot make again."""
    kb = default_knowledge_base()
    chosen = load_formulary(formulary or DEFAULT_FORMULARY, kb)
    policy = policy_file_for(policy)
    service = screening_service(kb, load_policy(policy, kb) if policy is not None else None)
    today = command_clock().today()
    decision = _screening(screening, service, today)
    earliest = decision.earliest_date if decision is not None else None
    first = parse_day(start, "--start") or max(today, earliest or today)
    request = PlanRequest(
        zones=_split(zones),
        stage=stage,
        spacing_cm=spacing_cm,
        product=ingredient or next(iter(chosen.products)),
        first_session=first,
        head_circumference_cm=head_circumference_cm,
        nasion_inion_cm=nasion_inion_cm,
        ear_to_ear_cm=ear_to_ear_cm,
        volume_per_point_ml=volume_per_point_ml,
        depth_mm=_depth(depth_mm),
    )
    atlas = default_atlas()
    plan = PlanningService(atlas, chosen).plan(request, decision, _split(actions_done))
    if svg is not None:
        # The map names the --screening file the plan was checked against (None: not checked).
        checked = (
            CheckedScreening(decision.screening_date, Path(screening).name)
            if decision is not None and screening is not None
            else None
        )
        picture = render_injection_map(plan, atlas, language, screening=checked)
        write_output(svg, picture.encode("utf-8"), "--svg")
    if as_json:
        typer.echo(orjson.dumps(plan.as_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        typer.echo(render_table(plan, language))
        if chosen.review_required:
            typer.echo("\n" + chosen.notice.in_language(language))


def _depth(value: str | None) -> tuple[float, float] | None:
    """``1.5-2`` as (1.5, 2.0); InputError naming the option otherwise."""
    if value is None:
        return None
    low, _, high = value.partition("-")
    try:
        return (float(low), float(high))
    except ValueError:
        raise InputError(f"--depth-mm: expected shallowest-deepest in mm, e.g. 1.5-2 "
                         f"(got {value!r})") from None  # fmt: skip
