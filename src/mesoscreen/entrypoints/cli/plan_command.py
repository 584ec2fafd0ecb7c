"""``mesoscreen plan``: an injection map, doses, depth and session calendar for the zones chosen."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from mesoscreen.domain.errors import InputError
from mesoscreen.domain.planner.plan import PlanRequest, TreatmentPlan
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.cli.app import app
from mesoscreen.entrypoints.cli.inputs import parse_day, read_json
from mesoscreen.entrypoints.rendering.injection_map_svg import render_injection_map
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.planning_loader import DEFAULT_FORMULARY, default_atlas, load_formulary
from mesoscreen.services.planning import PlanningService
from mesoscreen.services.screening import screening_service


def _screening(path: str | None, on: date) -> Any:
    """A decision from --screening: a decision JSON as printed, or an intake to screen now."""
    if path is None:
        return None
    document = read_json(path)
    if not isinstance(document, dict):
        raise InputError(f"--screening {path}: expected a JSON object")
    if "outcome" in document and "findings" in document:
        return document
    return screening_service(default_knowledge_base()).screen(document, on)


def _split(value: str | None) -> tuple[str, ...]:
    """A comma-separated option as a tuple, blanks dropped."""
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def render_table(plan: TreatmentPlan, language: Language) -> str:
    """The plan as a printable text table."""
    product = plan.product
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
        f"Product:   {product.name.in_language(language)} ({product.concentration}; "
        f"{product.technique.value}, needle {product.needle})",
        f"Depth:     {product.depth_mm[0]:g}-{product.depth_mm[1]:g} mm",
        f"Volume:    {product.volume_per_point_ml:g} mL per point, {plan.total_volume_ml:g} mL "
        f"per session (maximum {product.max_volume_per_session_ml:g} mL)",
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
        str | None, typer.Option("--screening", help="Decision JSON, or an intake to screen.")
    ] = None,
    actions_done: Annotated[
        str | None, typer.Option("--actions-done", help="Required actions recorded as done.")
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="First session date.")] = None,
    language: Annotated[Language, typer.Option("--language")] = Language.EN,
) -> None:
    """Plan injections about 1 cm apart on the head; exit 2 for unknown zones, stages or
    ingredients, out-of-range values, or a screening that forbids the plan."""
    kb = default_knowledge_base()
    chosen = load_formulary(formulary or DEFAULT_FORMULARY, kb)
    first = parse_day(start, "--start") or date.today()
    request = PlanRequest(
        zones=_split(zones),
        stage=stage,
        spacing_cm=spacing_cm,
        product=ingredient or next(iter(chosen.products)),
        first_session=first,
        head_circumference_cm=head_circumference_cm,
        nasion_inion_cm=nasion_inion_cm,
        ear_to_ear_cm=ear_to_ear_cm,
    )
    atlas = default_atlas()
    plan = PlanningService(atlas, chosen).plan(
        request, _screening(screening, first), _split(actions_done)
    )
    if svg is not None:
        svg.write_text(render_injection_map(plan, atlas, language), encoding="utf-8")
    if as_json:
        typer.echo(orjson.dumps(plan.as_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        typer.echo(render_table(plan, language))
        if chosen.review_required:
            typer.echo("\n" + chosen.notice.in_language(language))
